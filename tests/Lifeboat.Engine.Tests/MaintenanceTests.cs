using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>Maintenance mode (enter, leave, the end by itself, refusals, the scheduler) and the operation locks of the use cases.</summary>
public sealed class MaintenanceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-20T02:00:00Z", CultureInfo.InvariantCulture));

    [Fact]
    public async Task A_source_in_maintenance_refuses_a_backup_with_the_reason_shows_in_status_and_ends_by_itself()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        var window = await f.Use<EnterMaintenance>(time: clock).ExecuteAsync(new EnterMaintenanceRequest("app", "database upgrade", "2h"), Ct);
        Assert.Equal("app", window.Source);
        Assert.Equal(clock.GetUtcNow().AddHours(2), window.Ends);

        var listed = await f.Use<GetMaintenance>(time: clock).ExecuteAsync(new GetMaintenanceRequest(), Ct);
        Assert.Equal("database upgrade", Assert.Single(listed.Items).Reason);

        var refused = await Assert.ThrowsAsync<MaintenanceException>(() => f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct));
        Assert.Equal(ErrorCode.Maintenance, refused.Code);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal("backup of 'app' refused: source 'app' is in maintenance (database upgrade) since 2026-11-20T02:00:00Z, until 2026-11-20T04:00:00Z", refused.Message);
        await Assert.ThrowsAsync<MaintenanceException>(() => f.Use<RestoreSource>(time: clock).ExecuteAsync(new RestoreSourceRequest { Source = "app", To = f.Dir.Combine("r") }, Ct));

        var status = await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct);
        var check = status.Checks.Single(c => c.Name == "maintenance");
        Assert.Equal(HealthState.Warning, check.State);
        Assert.Equal("app", check.Source);
        Assert.Contains("database upgrade", check.Detail, StringComparison.Ordinal);
        var metrics = await f.Use<GetMetrics>(time: clock).ExecuteAsync(new GetMetricsRequest(), Ct);
        Assert.Equal([new SourceMaintenance("", false), new SourceMaintenance("app", true)], metrics.Maintenance);

        // Two hours later it is over, without anyone leaving it.
        clock.Advance(TimeSpan.FromHours(2));
        Assert.Empty((await f.Use<GetMaintenance>(time: clock).ExecuteAsync(new GetMaintenanceRequest(), Ct)).Items);
        Assert.DoesNotContain((await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct)).Checks, c => c.Name == "maintenance");
        await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct);
    }

    [Fact]
    public async Task Global_maintenance_pauses_every_source_until_it_is_left_and_the_person_doing_it_may_write_all_the_same()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        var window = await f.Use<EnterMaintenance>(time: clock).ExecuteAsync(new EnterMaintenanceRequest(Reason: "move to a new host"), Ct);
        Assert.Null(window.Source);
        Assert.Null(window.Ends);
        clock.Advance(TimeSpan.FromDays(30));
        var refused = await Assert.ThrowsAsync<MaintenanceException>(() => f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct));
        Assert.Contains("every source is in maintenance (move to a new host)", refused.Message, StringComparison.Ordinal);
        Assert.Contains(", until it is left", refused.Message, StringComparison.Ordinal);

        // The CLI's --ignore-maintenance.
        using (var scope = f.Services(time: clock).CreateScope())
        {
            var call = scope.ServiceProvider.GetRequiredService<CallContext>();
            call.Workspace = f.Workspace();
            call.IgnoreMaintenance = true;
            await scope.ServiceProvider.GetRequiredService<BackupSource>().ExecuteAsync(new BackupSourceRequest("app"), Ct);
        }

        var left = await f.Use<LeaveMaintenance>(time: clock).ExecuteAsync(new LeaveMaintenanceRequest(), Ct);
        Assert.NotNull(left.Ended);
        Assert.Null((await f.Use<LeaveMaintenance>(time: clock).ExecuteAsync(new LeaveMaintenanceRequest(), Ct)).Ended);
        clock.Advance(TimeSpan.FromMinutes(1)); // backup ids are times: a second backup at the same instant would collide
        await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct);

        var audit = await (await f.Use<CatalogAccess>().OpenAsync(Ct)).AuditAsync(new AuditQuery(Workspace.DefaultName), Ct);
        Assert.Contains(audit, a => a.Action == AuditActions.MaintenanceEnter);
        Assert.Equal(2, audit.Count(a => a.Action == AuditActions.MaintenanceLeave));
    }

    [Fact]
    public async Task Bad_maintenance_requests_name_the_field_and_the_value()
    {
        using var f = new EngineFixture();
        var bad = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<EnterMaintenance>().ExecuteAsync(new EnterMaintenanceRequest("app", null, "soon"), Ct));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("«duration» 'soon'", bad.Message, StringComparison.Ordinal);
        var zero = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<EnterMaintenance>().ExecuteAsync(new EnterMaintenanceRequest("app", null, "0m"), Ct));
        Assert.Contains("not a positive duration", zero.Message, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<EnterMaintenance>().ExecuteAsync(new EnterMaintenanceRequest("nope"), Ct));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("nope", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_or_restore_of_a_source_another_operation_holds_fails_fast_naming_the_holder()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        var id = (await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct)).Id;
        using (OperationLock.Acquire(f.Workspace().StateDirectory, "app", "test", clock))
        {
            var backup = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct));
            Assert.Equal(ErrorCode.RepositoryLocked, backup.Code);
            Assert.StartsWith("'app' is busy: test pid", backup.Message, StringComparison.Ordinal);
            Assert.Contains("since 2026-11-20T02:00:00", backup.Message, StringComparison.Ordinal);
            var restore = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<RestoreSource>(time: clock).ExecuteAsync(new RestoreSourceRequest { Source = "app", Backup = id, To = f.Dir.Combine("r") }, Ct));
            Assert.Equal(ErrorCode.RepositoryLocked, restore.Code);
            Assert.Throws<LifeboatException>(() => f.Use<OperationLocks>().EnsureFree("app"));
        }

        f.Use<OperationLocks>().EnsureFree("app");
        await f.Use<RestoreSource>(time: clock).ExecuteAsync(new RestoreSourceRequest { Source = "app", Backup = id, To = f.Dir.Combine("r") }, Ct);
    }

    [Fact]
    public async Task The_scheduler_skips_a_due_job_of_a_source_in_maintenance_without_counting_a_failure_and_runs_it_after()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["every5"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "*/5 * * * *" } });
        var catalog = await f.Use<CatalogAccess>(time: clock).OpenAsync(Ct);
        await catalog.SaveScheduleStateAsync(new ScheduleState("every5", null, null, clock.GetUtcNow().AddMinutes(-5), 0), Ct);
        await f.Use<EnterMaintenance>(time: clock).ExecuteAsync(new EnterMaintenanceRequest("app", "restore test", "7m"), Ct);

        var scheduler = new Scheduler(() => f.Workspace(), f.Services(time: clock).GetRequiredService<IServiceScopeFactory>(), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Scheduler>.Instance);
        var results = System.Threading.Channels.Channel.CreateUnbounded<JobResult>();
        scheduler.Completed += r => results.Writer.TryWrite(r);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = scheduler.RunAsync(stop.Token);

        var skipped = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(skipped.Skipped);
        Assert.False(skipped.Succeeded);
        Assert.Contains("source 'app' is in maintenance (restore test)", skipped.Error, StringComparison.Ordinal);
        var state = (await catalog.ScheduleStatesAsync(Ct))["every5"];
        Assert.Equal(0, state.ConsecutiveFailures);
        Assert.Equal(clock.GetUtcNow().AddMinutes(5), state.NextRun);
        Assert.Empty(await RepoBackupsAsync(f));

        clock.Advance(TimeSpan.FromMinutes(5));
        var stillPaused = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(stillPaused.Skipped);

        // 02:10: the 7 minutes are over, the job runs on its cron.
        clock.Advance(TimeSpan.FromMinutes(5));
        var ran = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(ran.Succeeded, ran.Error);
        Assert.False(ran.Skipped);
        Assert.Single(await RepoBackupsAsync(f));
        await stop.CancelAsync();
        await running;
    }

    private static async Task<List<string>> RepoBackupsAsync(EngineFixture f)
    {
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        return await repo.ListBackupIdsAsync(Ct);
    }
}
