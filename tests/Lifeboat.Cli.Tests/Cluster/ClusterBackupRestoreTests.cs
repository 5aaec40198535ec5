using System.Text.Json;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Physical backups restored into new directories, started, and compared with the original (real PostgreSQL 15).</summary>
public sealed class ClusterBackupRestoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertHealthyAsync(PostgresCluster restored)
    {
        var amcheck = await restored.RunToolAsync("pg_amcheck", ["--all", "--heapallindexed", "--install-missing"], Ct);
        Assert.True(amcheck.Success, $"pg_amcheck found problems:\n{amcheck.Output}\n{amcheck.Error}");
        await restored.StopAsync(Ct);
        var checksums = await ProcessRunner.RunAsync(restored.ToolPath("pg_checksums"), ["--check", "-D", restored.DataDirectory], restored.OsUser, null, TimeSpan.FromMinutes(2), Ct);
        Assert.True(checksums.Success, $"pg_checksums --check failed:\n{checksums.Output}\n{checksums.Error}");
    }

    [Fact]
    public async Task A_full_backup_restores_to_identical_data_that_passes_amcheck_and_pg_checksums()
    {
        await using var f = await ClusterFixture.StartAsync();
        Assert.True((await f.Cluster.RunToolAsync("pgbench", ["-i", "-s", "2", "-q", "postgres"], Ct)).Success);
        await f.ExecAsync("create table docs (id int primary key, body jsonb, note text); insert into docs select g, jsonb_build_object('n', g, 'tags', array['a', g::text]), repeat(md5(g::text), 3) from generate_series(1, 5000) g");
        var accounts = await ClusterFixture.DigestAsync(f.Cluster, "pgbench_accounts", "aid");
        var docs = await ClusterFixture.DigestAsync(f.Cluster, "docs", "id");

        var backup = await f.OkAsync("backup", "--source", "db", "--type", "full", "--json");
        var manifest = JsonDocument.Parse(backup.Out).RootElement;
        Assert.Equal("cluster", manifest.GetProperty("kind").GetString());
        var cluster = manifest.GetProperty("details").GetProperty("cluster");
        Assert.StartsWith("START WAL LOCATION:", cluster.GetProperty("backupLabel").GetString(), StringComparison.Ordinal);
        Assert.True(cluster.GetProperty("dataChecksums").GetBoolean());

        var target = f.NewDirectory("restored");
        var restore = await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off");
        Assert.Contains("recovery to the end of the archived WAL", restore.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, "backup_label")));
        Assert.True(File.Exists(Path.Combine(target, "recovery.signal")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(target, "pg_wal")));

        var restored = await f.StartRestoredAsync(target);
        Assert.Equal(accounts, await ClusterFixture.DigestAsync(restored, "pgbench_accounts", "aid"));
        Assert.Equal(docs, await ClusterFixture.DigestAsync(restored, "docs", "id"));
        await AssertHealthyAsync(restored);
    }

    [Fact]
    public async Task An_incremental_stores_only_changed_blocks_and_a_full_after_it_stores_almost_nothing()
    {
        await using var f = await ClusterFixture.StartAsync();
        Assert.True((await f.Cluster.RunToolAsync("pgbench", ["-i", "-s", "4", "-q", "postgres"], Ct)).Success);
        var full = JsonDocument.Parse((await f.OkAsync("backup", "--source", "db", "--type", "full", "--json")).Out).RootElement.GetProperty("stats");
        // Touch about 1% of the accounts pages.
        await f.ExecAsync("update pgbench_accounts set abalance = abalance + 1 where aid % 6100 = 0");
        await f.ExecAsync("checkpoint");
        var incr = JsonDocument.Parse((await f.OkAsync("backup", "--source", "db", "--type", "incr", "--json")).Out).RootElement;
        Assert.Equal("incr", incr.GetProperty("type").GetString());
        var fullNew = full.GetProperty("newBytes").GetInt64();
        var incrNew = incr.GetProperty("stats").GetProperty("newBytes").GetInt64();
        Assert.True(incrNew < fullNew / 10, $"the incremental stored {incrNew} new bytes, the full {fullNew}");
        var again = JsonDocument.Parse((await f.OkAsync("backup", "--source", "db", "--type", "full", "--json")).Out).RootElement.GetProperty("stats");
        Assert.True(again.GetProperty("bytesRead").GetInt64() >= full.GetProperty("bytesRead").GetInt64() / 2, "a full backup reads every file");
        Assert.True(again.GetProperty("newBytes").GetInt64() < fullNew / 10, $"a full after an incremental stored {again.GetProperty("newBytes").GetInt64()} new bytes");
    }

    [Fact]
    public async Task Unlogged_tables_come_back_empty_and_their_structure_intact()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create unlogged table scratch (id int primary key, v text); insert into scratch select g, 'x' from generate_series(1, 10000) g");
        await f.ExecAsync("create table kept (id int); insert into kept select generate_series(1, 100)");
        await f.ExecAsync("checkpoint");
        await f.OkAsync("backup", "--source", "db");
        var target = f.NewDirectory("restored");
        await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off");
        var restored = await f.StartRestoredAsync(target);
        Assert.Equal(0L, await restored.QueryAsync<long>("select count(*) from scratch", Ct));
        Assert.Equal(100L, await restored.QueryAsync<long>("select count(*) from kept", Ct));
        await restored.ExecuteAsync("insert into scratch values (1, 'usable')", Ct);
    }

    [Fact]
    public async Task A_tablespace_outside_pgdata_is_restored_where_the_map_says_and_the_original_place_is_never_overwritten()
    {
        await using var f = await ClusterFixture.StartAsync();
        var location = f.Dir.Dir("ts1");
        PostgresCluster.ChownForServer(location, f.Cluster.OsUser);
        await f.ExecAsync($"create tablespace ts1 location '{location}'");
        await f.ExecAsync("create table far (id int, v text) tablespace ts1; insert into far select g, md5(g::text) from generate_series(1, 20000) g");
        var digest = await ClusterFixture.DigestAsync(f.Cluster, "far", "id");
        var oid = await f.QueryAsync<uint>("select oid from pg_tablespace where spcname = 'ts1'");
        await f.OkAsync("backup", "--source", "db");

        var target = f.NewDirectory("restored");
        var refused = await f.RunAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"the location of tablespace {oid} {location} is not empty", refused.Error, StringComparison.Ordinal);

        var moved = f.NewDirectory("ts1-restored");
        var restore = await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off", "--tablespace-map", $"{oid}={moved}");
        Assert.Contains($"tablespace {oid} → {moved}", restore.Out, StringComparison.Ordinal);
        Assert.Equal(moved, new FileInfo(Path.Combine(target, "pg_tblspc", oid.ToString(System.Globalization.CultureInfo.InvariantCulture))).LinkTarget);
        var restored = await f.StartRestoredAsync(target);
        Assert.Equal(digest, await ClusterFixture.DigestAsync(restored, "far", "id"));
        Assert.Equal(moved, await restored.QueryAsync<string>("select pg_tablespace_location(oid) from pg_tablespace where spcname = 'ts1'", Ct));
        Assert.Equal(digest, await ClusterFixture.DigestAsync(f.Cluster, "far", "id"));
    }

    [Fact]
    public async Task A_backup_taken_while_pgbench_writes_restores_to_a_consistent_database()
    {
        await using var f = await ClusterFixture.StartAsync();
        Assert.True((await f.Cluster.RunToolAsync("pgbench", ["-i", "-s", "2", "-q", "postgres"], Ct)).Success);
        var load = f.Cluster.RunToolAsync("pgbench", ["-T", "8", "-c", "2", "postgres"], Ct);
        await Task.Delay(1500, Ct);
        await f.OkAsync("backup", "--source", "db");
        Assert.True((await load).Success);
        await f.SwitchAndWaitForArchiveAsync();
        var target = f.NewDirectory("restored");
        await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off");
        var restored = await f.StartRestoredAsync(target);
        // pgbench keeps every balance table's sum equal to the history's: true in any consistent snapshot.
        var accounts = await restored.QueryAsync<long>("select sum(abalance)::int8 from pgbench_accounts", Ct);
        Assert.Equal(accounts, await restored.QueryAsync<long>("select sum(bbalance)::int8 from pgbench_branches", Ct));
        Assert.Equal(accounts, await restored.QueryAsync<long>("select coalesce(sum(delta), 0)::int8 from pgbench_history", Ct));
        Assert.Equal(await f.QueryAsync<long>("select count(*) from pgbench_history"), await restored.QueryAsync<long>("select count(*) from pgbench_history", Ct));
        await AssertHealthyAsync(restored);
    }
}
