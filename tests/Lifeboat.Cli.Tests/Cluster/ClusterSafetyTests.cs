using System.Text.Json;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Bad input and dangerous requests on clusters: clear errors, nothing destroyed.</summary>
public sealed class ClusterSafetyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Restore_never_writes_into_a_running_cluster_and_refuses_targets_outside_the_recoverable_window()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int); insert into t values (1)");
        await f.OkAsync("backup", "--source", "db");
        await f.SwitchAndWaitForArchiveAsync();
        var before = Directory.EnumerateFiles(f.PgData, "*", SearchOption.AllDirectories).Count();

        var running = await f.RunAsync("restore", "--source", "db", "--to", f.PgData, "--delta");
        Assert.Equal(2, running.ExitCode);
        Assert.Contains($"the restore destination {f.PgData} belongs to a running PostgreSQL server", running.Error, StringComparison.Ordinal);
        var forced = await f.RunAsync("restore", "--source", "db", "--to", f.PgData, "--force");
        Assert.Equal(2, forced.ExitCode);
        Assert.Equal(before, Directory.EnumerateFiles(f.PgData, "*", SearchOption.AllDirectories).Count());
        Assert.Equal(1L, await f.QueryAsync<long>("select count(*) from t"));

        var early = await f.RunAsync("restore", "--source", "db", "--to", f.NewDirectory("early"), "--target-time", "2020-01-01 00:00:00+00");
        Assert.Equal(2, early.ExitCode);
        Assert.Contains("is before the earliest recoverable point", early.Error, StringComparison.Ordinal);
        Assert.Contains("can be recovered to: timeline 1: ", early.Error, StringComparison.Ordinal);

        var late = await f.RunAsync("restore", "--source", "db", "--to", f.NewDirectory("late"), "--target-time", "2099-01-01 00:00:00+00");
        Assert.Equal(2, late.ExitCode);
        Assert.Contains("cannot be reached: the last point recovery can reach is", late.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(f.NewDirectory("early")));

        var two = await f.RunAsync("restore", "--source", "db", "--to", f.NewDirectory("x"), "--target-xid", "5", "--target-name", "n");
        Assert.Equal(2, two.ExitCode);
        Assert.Contains("give at most one recovery target", two.Error, StringComparison.Ordinal);

        var nonEmpty = f.Dir.Dir("busy");
        File.WriteAllText(Path.Combine(nonEmpty, "keep.txt"), "mine");
        var busy = await f.RunAsync("restore", "--source", "db", "--to", nonEmpty);
        Assert.Equal(2, busy.ExitCode);
        Assert.Contains("is not empty", busy.Error, StringComparison.Ordinal);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(nonEmpty, "keep.txt")));
    }

    [Fact]
    public async Task A_delta_restore_rewrites_only_what_differs()
    {
        await using var f = await ClusterFixture.StartAsync();
        Assert.True((await f.Cluster.RunToolAsync("pgbench", ["-i", "-s", "2", "-q", "postgres"], Ct)).Success);
        await f.OkAsync("backup", "--source", "db");
        var target = f.NewDirectory("restored");
        var first = JsonDocument.Parse((await f.OkAsync("restore", "--source", "db", "--to", target, "--archive-mode", "off", "--json")).Out).RootElement;
        var restored = await f.StartRestoredAsync(target);
        var digest = await ClusterFixture.DigestAsync(restored, "pgbench_branches", "bid");
        await restored.ExecuteAsync("update pgbench_branches set bbalance = 999; checkpoint", Ct);
        await restored.StopAsync(Ct);
        File.WriteAllText(Path.Combine(target, "stray.txt"), "not from the backup");

        var delta = JsonDocument.Parse((await f.OkAsync("restore", "--source", "db", "--to", target, "--delta", "--archive-mode", "off", "--json")).Out).RootElement;
        Assert.True(delta.GetProperty("bytesWritten").GetInt64() < first.GetProperty("bytesWritten").GetInt64() / 2, $"delta wrote {delta.GetProperty("bytesWritten").GetInt64()} of {first.GetProperty("bytesWritten").GetInt64()} bytes");
        Assert.False(File.Exists(Path.Combine(target, "stray.txt")));
        var again = await f.StartRestoredAsync(target);
        Assert.Equal(digest, await ClusterFixture.DigestAsync(again, "pgbench_branches", "bid"));
    }

    [Fact]
    public async Task A_corrupt_page_is_reported_with_its_relation_fork_and_block_and_the_backup_is_marked()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table victim (id int, v text); insert into victim select g, repeat('x', 200) from generate_series(1, 5000) g; checkpoint");
        var file = await f.QueryAsync<string>("select pg_relation_filepath('victim')");
        await f.Cluster.StopAsync(Ct);
        var path = Path.Combine(f.PgData, file);
        var bytes = File.ReadAllBytes(path);
        bytes[(8192 * 3) + 4000] ^= 0xFF; // block 3
        File.WriteAllBytes(path, bytes);
        await f.Cluster.StartAsync(Ct);

        var backup = await f.RunAsync("backup", "--source", "db", "--json");
        Assert.Equal(1, backup.ExitCode);
        Assert.Contains($"page checksum failure: pgdata/{file}: blocks 3", backup.Error, StringComparison.Ordinal);
        var manifest = JsonDocument.Parse(backup.Out).RootElement;
        Assert.Equal("1", manifest.GetProperty("tags").GetProperty("pageChecksumErrors").GetString());
        Assert.Equal($"pgdata/{file}: blocks 3", manifest.GetProperty("details").GetProperty("cluster").GetProperty("pageChecksumErrors")[0].GetString());
    }

    [Fact]
    public async Task Check_finds_a_wrong_archive_command_and_archiving_setup_fixes_it_idempotently()
    {
        await using var f = await ClusterFixture.StartAsync();
        Assert.Equal(0, (await f.RunAsync("check")).ExitCode);
        await f.ExecAsync("alter system set archive_command = 'cp %p /nowhere/%f'; select pg_reload_conf()");
        await Task.Delay(300, Ct);
        var check = await f.RunAsync("check", "--source", "db", "--json");
        Assert.Equal(2, check.ExitCode);
        var failed = JsonDocument.Parse(check.Out).RootElement.GetProperty("checks").EnumerateArray().Where(c => c.GetProperty("status").GetString() == "failed").ToList();
        var archive = Assert.Single(failed);
        Assert.Equal("archive_command", archive.GetProperty("check").GetString());
        Assert.Contains("lifeboat archiving setup --source db --apply", archive.GetProperty("fix").GetString(), StringComparison.Ordinal);

        var plan = await f.OkAsync("archiving", "setup", "--source", "db");
        Assert.Contains("ALTER SYSTEM SET archive_command", plan.Out, StringComparison.Ordinal);
        Assert.Contains("run again with --apply", plan.Out, StringComparison.Ordinal);
        var apply = await f.OkAsync("archiving", "setup", "--source", "db", "--apply");
        Assert.Contains("no restart needed", apply.Out, StringComparison.Ordinal);
        await Task.Delay(300, Ct);
        Assert.Contains("nothing to change", (await f.OkAsync("archiving", "setup", "--source", "db", "--apply")).Out, StringComparison.Ordinal);
        Assert.Equal(0, (await f.RunAsync("check", "--source", "db")).ExitCode);
    }

    [Fact]
    public async Task Check_reports_archiving_off_and_backup_refuses_to_run_without_it()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var check = await f.RunAsync("check", "--source", "db");
        Assert.Equal(2, check.ExitCode);
        Assert.Contains("archive_mode = off", check.Out, StringComparison.Ordinal);
        var backup = await f.RunAsync("backup", "--source", "db");
        Assert.Equal(2, backup.ExitCode);
        Assert.Contains("archive_mode is off: a backup without archived WAL cannot be restored", backup.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(f.RepoPath, "backups")) && Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Any());
    }
}
