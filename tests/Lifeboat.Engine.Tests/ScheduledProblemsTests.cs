using System.Text.Json.Nodes;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Schedules;

namespace Lifeboat.Engine.Tests;

/// <summary>A scheduled backup that is committed with problems is a finding, not a transient failure.</summary>
public sealed class ScheduledProblemsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_scheduled_backup_committed_with_problems_is_recorded_as_failed_after_one_attempt_not_retried_into_more_backups()
    {
        using var f = new EngineFixture();
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["nightly"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "0 3 * * *", ["MaxAttempts"] = 3 } });

        // A log written all the time: every read of it sees it change, so every backup is committed with a problem.
        var busy = Path.Combine(f.Source, "busy.log");
        File.WriteAllBytes(busy, TestData.Text(20_000_000, 3));
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            await using var log = new FileStream(busy, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            while (!stop.IsCancellationRequested)
            {
                log.WriteByte((byte)'x');
                log.Flush();
                await Task.Yield();
            }
        }, Ct);

        JobResult result;
        try
        {
            result = await f.Use<RunSchedule>().ExecuteAsync(new RunScheduleRequest("nightly", FirstRetryDelay: TimeSpan.Zero), Ct);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        Assert.False(result.Succeeded);
        Assert.Equal(1, result.Attempts);
        Assert.Matches(@"^backup \S+ completed with \d+ problem\(s\): busy\.log: changed while it was read", result.Error);
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        Assert.Single(await repo.ListBackupIdsAsync(Ct));
        var state = (await (await f.Use<CatalogAccess>().OpenAsync(Ct)).ScheduleStatesAsync(Ct))["nightly"];
        Assert.Equal(1, state.ConsecutiveFailures);
    }
}
