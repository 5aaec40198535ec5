using System.Globalization;
using System.Text.Json;
using Lifeboat.Core;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// The recoverable window ends at the last point recovery can reach — the last commit or abort in the archived WAL, not
/// when the last segment was archived (issue 19, item 10) — and a target past it is refused before anything is written.
/// </summary>
public sealed class RecoveryReachTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_window_ends_at_the_last_archived_commit_and_a_target_after_it_is_refused_with_nothing_written()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int primary key, batch text)");
        await f.OkAsync("backup", "--source", "db");
        await f.ExecAsync("insert into t select g, 'a' from generate_series(1, 10) g");
        var betweenBatches = await f.QueryAsync<DateTime>("select clock_timestamp()");
        await Task.Delay(1100, Ct);
        var beforeLast = await f.QueryAsync<DateTime>("select clock_timestamp()");
        await f.ExecAsync("insert into t select g, 'b' from generate_series(11, 20) g");
        var afterLast = await f.QueryAsync<DateTime>("select clock_timestamp()");
        // The segment is archived well after the last commit: the old window (its archive time) reached past it.
        await Task.Delay(2500, Ct);
        await f.SwitchAndWaitForArchiveAsync();

        var list = JsonDocument.Parse((await f.OkAsync("list", "--source", "db", "--json")).Out).RootElement;
        var window = list.GetProperty("recoverable")[0].GetProperty("timelines")[0];
        var latest = window.GetProperty("latest").GetDateTimeOffset();
        Assert.InRange(latest, new DateTimeOffset(beforeLast, TimeSpan.Zero), new DateTimeOffset(afterLast, TimeSpan.Zero));

        // One second after the last commit, inside the old window: refused (exit 2), the destination not even created.
        var late = new DateTimeOffset(afterLast, TimeSpan.Zero).AddSeconds(1);
        var lateText = TimeParsing.ToPostgres(late.UtcDateTime);
        var destination = f.NewDirectory("late");
        var refused = await f.RunAsync("restore", "--source", "db", "--to", destination, "--target-time", lateText, "--archive-mode", "off");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"the target time {late.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z cannot be reached", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"the last point recovery can reach is {latest.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture)}Z", refused.Error, StringComparison.Ordinal);
        Assert.Contains("hint:", refused.Error, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(destination), "nothing was written");

        // A drill to that time is refused the same way.
        var drill = await f.RunAsync("drill", "--source", "db", "--target-time", lateText);
        Assert.Equal(2, drill.ExitCode);
        Assert.Contains("cannot be reached", drill.Error, StringComparison.Ordinal);

        // A target before the last commit restores the rows committed by then.
        var expected = await f.QueryAsync<string>("select md5(string_agg(t::text, '|' order by id)) from t where batch = 'a'");
        var before = f.NewDirectory("before");
        await f.OkAsync("restore", "--source", "db", "--to", before, "--target-time", TimeParsing.ToPostgres(betweenBatches), "--archive-mode", "off");
        var restored = await f.StartRestoredAsync(before);
        Assert.Equal(expected, await ClusterFixture.DigestAsync(restored, "t", "id"));
        await restored.StopAsync(Ct);
    }
}
