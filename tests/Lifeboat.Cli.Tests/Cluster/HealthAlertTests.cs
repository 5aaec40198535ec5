using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Tests.Server;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// The server's scheduled health evaluation (Health:EvaluateInterval) against a real PostgreSQL 15 whose
/// archive_command (lifeboat wal-push) fails: wal-push raises wal.archive_failed, the evaluation raises
/// wal.archive_stalled once — not again after a restart of the server — and wal.archive_resumed when archiving works
/// again.
/// </summary>
public sealed class HealthAlertTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    /// <summary>One evaluation's own time (status opens the repository and asks PostgreSQL) besides the interval.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<JsonElement>> EventsAsync(ClusterFixture f, string type)
        => JsonDocument.Parse((await f.OkAsync("events", "list", "--type", type, "--source", "db", "--limit", "1000", "--json")).Out).RootElement
            .GetProperty("items").EnumerateArray().Reverse().ToList();

    private static async Task<List<JsonElement>> WaitForAsync(ClusterFixture f, string type, int count)
    {
        var until = TimeProvider.System.GetUtcNow() + Deadline;
        while (true)
        {
            var events = await EventsAsync(f, type);
            if (events.Count >= count)
            {
                return events;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < until, $"no {count} {type} event(s) within {Deadline.TotalSeconds:0} s; the log has: {string.Join(", ", (await EventsAsync(f, "*")).Select(e => e.GetProperty("type").GetString()))}");
            await Task.Delay(100, Ct);
        }
    }

    private static DateTimeOffset Time(JsonElement e) => e.GetProperty("time").GetDateTimeOffset();

    [Fact]
    public async Task A_failing_archive_command_raises_wal_archive_failed_then_one_stalled_alert_within_the_interval_kept_across_a_restart_and_resumed_when_it_recovers()
    {
        Peers.Require(Peers.IsRoot, "root (PostgreSQL runs as postgres, so its archive_command can be refused the repository key while the server reads it)");
        await using var f = await ClusterFixture.StartAsync();
        var user = PostgresCluster.DefaultOsUser!;
        var config = JsonNode.Parse(await File.ReadAllTextAsync(f.ConfigPath, Ct))!.AsObject();
        config["Health"] = new JsonObject { ["EvaluateInterval"] = "00:00:01" };
        config["Events"] = new JsonObject { ["PollInterval"] = "00:00:00.050" };
        await File.WriteAllTextAsync(f.ConfigPath, config.ToJsonString(), Ct);
        await f.ExecAsync("create table t as select generate_series(1, 1000) g");
        await f.SwitchAndWaitForArchiveAsync();
        // wal-push (as the server's OS user) writes its events into the catalog next to the configuration.
        PostgresCluster.ChownForServer(f.Dir.Path, user);

        var server = await ServerFixture.StartAsync(f.Dir, f.Cli);
        try
        {
            // Archiving works: a few evaluations raise no WAL alert.
            await server.HealthPassesAsync(3);
            Assert.Empty(await EventsAsync(f, "wal.*"));

            // The key becomes unreadable to PostgreSQL's user only: every wal-push fails, the server still reads the repository.
            var key = f.Dir.Combine("repo.key");
            PostgresCluster.ChownForServer(key, "root");
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await f.ExecAsync("insert into t select generate_series(1, 1000)");
            await f.QueryAsync<string>("select pg_walfile_name(pg_switch_wal())");
            var failed = await WaitForAsync(f, "wal.archive_failed", 1);
            Assert.Equal("error", failed[0].GetProperty("severity").GetString());
            Assert.Equal("primary", failed[0].GetProperty("data").GetProperty("target").GetString());
            var stalled = Assert.Single(await WaitForAsync(f, "wal.archive_stalled", 1));
            Assert.True(Time(stalled) - Time(failed[0]) <= Interval + Slack, $"the alert came {(Time(stalled) - Time(failed[0])).TotalSeconds:0.0} s after the first failure");
            Assert.Equal("critical", stalled.GetProperty("severity").GetString());
            var data = stalled.GetProperty("data");
            Assert.Equal("WAL archiving", data.GetProperty("check").GetString());
            Assert.Equal("critical", data.GetProperty("state").GetString());
            Assert.Equal("healthy", data.GetProperty("previousState").GetString());
            Assert.Contains("archive_command is failing", data.GetProperty("detail").GetString(), StringComparison.Ordinal);

            // Still failing, and the server restarted: the state is in the catalog, so no second alert.
            await server.DisposeAsync();
            server = await ServerFixture.StartAsync(f.Dir, f.Cli);
            // PostgreSQL retries the archive_command (another failure) and the new server evaluates it twice.
            await WaitForAsync(f, "wal.archive_failed", (await EventsAsync(f, "wal.archive_failed")).Count + 1);
            await server.HealthPassesAsync(2);
            Assert.True((await EventsAsync(f, "wal.archive_failed")).Count > 1, "PostgreSQL did not retry the failing archive_command");
            Assert.Single(await EventsAsync(f, "wal.archive_stalled"));
            Assert.Empty(await EventsAsync(f, "wal.archive_resumed"));

            // The key readable again; a new segment wakes the archiver, which archives the failed one first.
            PostgresCluster.ChownForServer(key, user);
            await f.ExecAsync("insert into t select generate_series(1, 1000)");
            await f.SwitchAndWaitForArchiveAsync();
            var resumed = Assert.Single(await WaitForAsync(f, "wal.archive_resumed", 1));
            Assert.Equal("info", resumed.GetProperty("severity").GetString());
            Assert.Equal("healthy", resumed.GetProperty("data").GetProperty("state").GetString());
            Assert.Equal("critical", resumed.GetProperty("data").GetProperty("previousState").GetString());
            Assert.True(resumed.GetProperty("data").GetProperty("resolved").GetBoolean());
            Assert.Single(await EventsAsync(f, "wal.archive_stalled"));
            Assert.True(Time(resumed) > Time(stalled));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
