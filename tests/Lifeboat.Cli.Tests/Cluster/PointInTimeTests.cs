using System.Globalization;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Point-in-time recovery to a time, an LSN, a transaction, a restore point, and across a timeline switch.</summary>
public sealed class PointInTimeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Recovery_stops_at_a_time_an_lsn_an_xid_or_a_restore_point_and_picks_the_right_base_backup()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table events (id int primary key, at timestamptz default clock_timestamp())");
        await f.OkAsync("backup", "--source", "db", "--type", "full");

        // Batch A, and every kind of target right after it.
        long xid;
        await using (var connection = new Npgsql.NpgsqlConnection(f.Cluster.ConnectionString()))
        {
            await connection.OpenAsync(Ct);
            await using var tx = await connection.BeginTransactionAsync(Ct);
            await using (var insert = new Npgsql.NpgsqlCommand("insert into events (id) select generate_series(1, 100)", connection, tx))
            {
                await insert.ExecuteNonQueryAsync(Ct);
            }

            await using (var txid = new Npgsql.NpgsqlCommand("select txid_current()", connection, tx))
            {
                xid = (long)(await txid.ExecuteScalarAsync(Ct))!;
            }

            await tx.CommitAsync(Ct);
        }

        var lsn = await f.QueryAsync<string>("select pg_current_wal_lsn()::text");
        await f.ExecAsync("select pg_create_restore_point('after_a')");
        var time = Lifeboat.Core.TimeParsing.ToPostgres(await f.QueryAsync<DateTime>("select clock_timestamp()"));
        await Task.Delay(1100, Ct);

        // An incremental after A, then batch B.
        await f.OkAsync("backup", "--source", "db", "--type", "incr");
        await f.ExecAsync("insert into events (id) select generate_series(101, 200)");
        var afterB = Lifeboat.Core.TimeParsing.ToPostgres(await f.QueryAsync<DateTime>("select clock_timestamp()"));
        await Task.Delay(1100, Ct);
        await f.ExecAsync("insert into events (id) select generate_series(201, 300)");
        await f.SwitchAndWaitForArchiveAsync();

        async Task<long> RestoreAndCountAsync(string name, params string[] target)
        {
            var dir = f.NewDirectory(name);
            var result = await f.OkAsync(["restore", "--source", "db", "--to", dir, "--archive-mode", "off", .. target]);
            var restored = await f.StartRestoredAsync(dir);
            var count = await restored.QueryAsync<long>("select count(*) from events", Ct);
            await restored.StopAsync(Ct);
            return count;
        }

        Assert.Equal(100, await RestoreAndCountAsync("by-time", "--target-time", time));
        Assert.Equal(100, await RestoreAndCountAsync("by-lsn", "--target-lsn", lsn));
        Assert.Equal(100, await RestoreAndCountAsync("by-xid", "--target-xid", xid.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(100, await RestoreAndCountAsync("by-name", "--target-name", "after_a"));
        Assert.Equal(200, await RestoreAndCountAsync("after-b", "--target-time", afterB));
        Assert.Equal(300, await RestoreAndCountAsync("latest"));
    }

    [Fact]
    public async Task Recovery_follows_a_timeline_switch_to_a_point_on_the_new_timeline()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int, tl text)");
        await f.OkAsync("backup", "--source", "db");
        await f.ExecAsync("insert into t select g, 'one' from generate_series(1, 10) g");
        await f.SwitchAndWaitForArchiveAsync();

        // Restore and promote: timeline 2 starts, and the promoted copy archives into the same source (asked for: a copy
        // does not archive by default).
        var first = f.NewDirectory("first");
        await f.OkAsync("restore", "--source", "db", "--to", first, "--archive-mode", "preserve");
        var promoted = await f.StartRestoredAsync(first);
        Assert.Equal(2L, await promoted.QueryAsync<long>("select timeline_id::int8 from pg_control_checkpoint()", Ct));
        await promoted.ExecuteAsync("insert into t select g, 'two' from generate_series(11, 20) g", Ct);
        var onTimeline2 = Lifeboat.Core.TimeParsing.ToPostgres(await promoted.QueryAsync<DateTime>("select clock_timestamp()", Ct));
        await Task.Delay(1100, Ct);
        await promoted.ExecuteAsync("insert into t select g, 'too late' from generate_series(21, 30) g", Ct);
        await f.SwitchAndWaitForArchiveAsync(promoted);
        Assert.True(File.Exists(f.ArchivePathOf("00000002.history")), "the promoted copy archived its timeline history");

        var second = f.NewDirectory("second");
        await f.OkAsync("restore", "--source", "db", "--to", second, "--target-time", onTimeline2, "--archive-mode", "off");
        var restored = await f.StartRestoredAsync(second);
        Assert.Equal(20L, await restored.QueryAsync<long>("select count(*) from t", Ct));
        Assert.Equal(0L, await restored.QueryAsync<long>("select count(*) from t where tl = 'too late'", Ct));
        var list = await f.OkAsync("list", "--source", "db", "--json");
        Assert.Contains("\"timeline\": 2", list.Out, StringComparison.Ordinal);
    }
}
