using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Lifeboat.Engine.Scheduling;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>Expire, health thresholds and the scheduler, on a files source with a fake clock.</summary>
public sealed class OperationsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-20T02:00:00Z", CultureInfo.InvariantCulture));

    [Fact]
    public async Task Expire_keeps_what_the_policy_and_pins_say_explains_it_and_the_rest_still_restores()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        var ids = new List<string>();
        for (var day = 0; day < 4; day++)
        {
            File.WriteAllText(Path.Combine(f.Source, $"day{day}.txt"), new string('x', 10_000 * (day + 1)));
            ids.Add((await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct)).Id);
            clock.Advance(TimeSpan.FromDays(1));
        }

        await using (var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct))
        {
            await repo.PinAsync(ids[0], "audit", Ct);
        }

        f.Config.Edit(root => root["Sources"]!["app"]!.AsObject()["Retention"] = new JsonObject { ["KeepLast"] = 2 });
        var dry = await f.Use<ExpireBackups>(time: clock).ExecuteAsync(new ExpireBackupsRequest(DryRun: true), Ct);
        var decisions = dry.Sources.Single().Decisions;
        Assert.Equal(["kept", "kept", "deleted", "kept"], decisions.Select(d => d.Keep ? "kept" : "deleted"));
        Assert.Equal("outside all rules", decisions[2].Reasons.Single());
        Assert.Equal("pinned", decisions[3].Reasons.Single());
        Assert.Equal(4, Directory.EnumerateFiles(f.Dir.Combine("repo", "backups")).Count());

        var report = await f.Use<ExpireBackups>(time: clock).ExecuteAsync(new ExpireBackupsRequest(), Ct);
        Assert.Equal(1, report.Deleted);
        Assert.NotNull(report.Prune);
        Assert.Equal(3, Directory.EnumerateFiles(f.Dir.Combine("repo", "backups")).Count());
        var restored = f.Dir.Combine("r");
        await f.Use<RestoreSource>().ExecuteAsync(new RestoreSourceRequest { Source = "app", Backup = ids[0], To = restored }, Ct);
        Assert.True(File.Exists(Path.Combine(restored, "day0.txt")));
        Assert.False(File.Exists(Path.Combine(restored, "day1.txt")));
    }

    [Fact]
    public async Task Status_warns_then_turns_critical_as_the_last_backup_ages_and_after_three_failures()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct);
        HealthCheck Age(HealthReport r) => r.Checks.Single(c => c.Name == "last backup");

        Assert.Equal(HealthState.Healthy, Age(await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct)).State);
        clock.Advance(TimeSpan.FromHours(26));
        var warning = await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct);
        Assert.Equal(HealthState.Warning, Age(warning).State);
        Assert.Equal(HealthState.Warning, warning.Overall);
        clock.Advance(TimeSpan.FromHours(11));
        Assert.Equal(HealthState.Critical, Age(await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct)).State);

        var catalog = await f.Use<CatalogAccess>().OpenAsync(Ct);
        for (var i = 0; i < 3; i++)
        {
            await catalog.RecordRunAsync(new RunRecord { Id = $"fail{i}", Kind = "backup", Source = "app", Status = RunStatus.Failed, Started = clock.GetUtcNow().AddMinutes(i), Finished = clock.GetUtcNow().AddMinutes(i), Error = "disk full" }, Ct);
        }

        var report = await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct);
        var failures = report.Checks.Single(c => c.Name == "consecutive failures");
        Assert.Equal(HealthState.Critical, failures.State);
        Assert.Equal("3 in a row, the last: disk full", failures.Detail);
        Assert.Equal(HealthState.Critical, report.Checks.Single(c => c.Name == "success rate").State);
    }

    [Fact]
    public async Task Backup_age_thresholds_follow_the_backup_schedule()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["hourly"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "0 * * * *" } });
        await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct);
        clock.Advance(TimeSpan.FromHours(2.5));
        var age = (await f.Use<GetStatus>(time: clock).ExecuteAsync(new GetStatusRequest(), Ct)).Checks.Single(c => c.Name == "last backup");
        Assert.Equal(HealthState.Critical, age.State);
        Assert.Contains("thresholds from schedule hourly", age.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_scheduler_runs_a_missed_job_at_start_up_then_on_its_cron_and_never_overlaps_a_source()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["every5"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "*/5 * * * *" } });
        var workspace = f.Workspace();
        var catalog = await f.Use<CatalogAccess>(time: clock).OpenAsync(Ct);
        // The server was down when the 01:55 run was due.
        await catalog.SaveScheduleStateAsync(new ScheduleState("every5", null, null, clock.GetUtcNow().AddMinutes(-5), 0), Ct);

        var scheduler = new Scheduler(() => f.Workspace(), f.Services(time: clock).GetRequiredService<IServiceScopeFactory>(), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Scheduler>.Instance);
        var results = System.Threading.Channels.Channel.CreateUnbounded<JobResult>();
        scheduler.Completed += r => results.Writer.TryWrite(r);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = scheduler.RunAsync(stop.Token);

        var catchUp = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(catchUp.Succeeded, catchUp.Error);
        Assert.Single(await RepoBackupsAsync(f));

        // While another process holds the source's operation lock, the scheduled run is skipped, not run twice.
        using (var held = OperationLock.Acquire(workspace.StateDirectory, "app", "test", clock))
        {
            clock.Advance(TimeSpan.FromMinutes(5));
            var skipped = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.False(skipped.Succeeded);
            Assert.Contains("'app' is busy: test pid", skipped.Error, StringComparison.Ordinal);
        }

        clock.Advance(TimeSpan.FromMinutes(5));
        var onTime = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(onTime.Succeeded, onTime.Error);
        Assert.Equal(2, (await RepoBackupsAsync(f)).Count);
        await stop.CancelAsync();
        await running;
        var state = (await catalog.ScheduleStatesAsync(Ct))["every5"];
        Assert.Equal(RunStatus.Succeeded, state.LastStatus);
        Assert.True(state.NextRun > clock.GetUtcNow());
    }

    [Fact]
    public async Task A_schedule_with_a_single_attempt_runs_once_and_reports_its_failure()
    {
        using var f = new EngineFixture();
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["once"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "0 2 * * *", ["MaxAttempts"] = 1 } });
        var ok = await f.Use<RunSchedule>().ExecuteAsync(new RunScheduleRequest("once"), Ct);
        Assert.True(ok.Succeeded, ok.Error);
        Assert.Equal(1, ok.Attempts);

        f.Config.Edit(root => root["Repository"]!["Url"] = "file://" + f.Dir.Combine("no-such-repo"));
        var failed = await f.Use<RunSchedule>().ExecuteAsync(new RunScheduleRequest("once", FirstRetryDelay: TimeSpan.FromMilliseconds(1)), Ct);
        Assert.False(failed.Succeeded);
        Assert.Equal(1, failed.Attempts);
        Assert.NotNull(failed.Error);
    }

    [Fact]
    public void Schedules_export_to_systemd_calendar_expressions()
    {
        Assert.Equal("*-*-* 02:00:00", ScheduleExport.OnCalendar("0 2 * * *", null));
        Assert.Equal("Mon..Fri *-*-* 02:30:00 Europe/Berlin", ScheduleExport.OnCalendar("30 2 * * 1-5", "Europe/Berlin"));
        Assert.Equal("*-*-* *:00/15:00", ScheduleExport.OnCalendar("*/15 * * * *", null));
        Assert.Equal("Sun *-*-01 03:05:00", ScheduleExport.OnCalendar("5 3 1 * 0", null));
    }

    [Fact]
    public async Task A_backup_fails_early_with_the_numbers_when_the_repository_has_no_room()
    {
        Assert.SkipUnless(Peers.IsRoot, "mounting a small tmpfs needs root");
        using var f = new EngineFixture(createTree: false);
        File.WriteAllBytes(Path.Combine(f.Source, "big.bin"), TestData.Random(8 << 20, 1));
        var small = f.Dir.Dir("small");
        var mount = System.Diagnostics.Process.Start("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", small]);
        await mount.WaitForExitAsync(Ct);
        Assert.SkipWhen(mount.ExitCode != 0, "tmpfs cannot be mounted here");
        try
        {
            var key = Lifeboat.Repository.Crypto.KeyMaterial.FromKeyFile(f.KeyFile);
            await using (await Lifeboat.Repository.Repository.InitAsync(Targets.TargetFactory.Open("file://" + small + "/repo"), new Lifeboat.Repository.InitOptions { Key = key }, TimeProvider.System, null, Ct))
            {
            }

            f.Config.Edit(root => root["Repository"]!["Url"] = "file://" + small + "/repo");
            var ex = await Assert.ThrowsAsync<LifeboatException>(() => f.Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app"), Ct));
            Assert.Equal(ErrorCode.NoSpace, ex.Code);
            Assert.Equal(2, ex.ExitCode);
            Assert.StartsWith("not enough free space for a backup of 'app':", ex.Message, StringComparison.Ordinal);
            Assert.Contains("needed (half of its 8.00 MiB on disk, for a first backup, plus 25 %)", ex.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(small, "repo", "backups")) && Directory.EnumerateFiles(Path.Combine(small, "repo", "backups")).Any());
        }
        finally
        {
            using var umount = System.Diagnostics.Process.Start("umount", [small]);
            await umount.WaitForExitAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_schedule_added_or_retimed_while_the_scheduler_runs_applies_without_a_restart()
    {
        using var f = new EngineFixture();
        var clock = Clock();
        var catalog = await f.Use<CatalogAccess>(time: clock).OpenAsync(Ct);
        var scheduler = new Scheduler(() => f.Workspace(), f.Services(time: clock).GetRequiredService<IServiceScopeFactory>(), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Scheduler>.Instance);
        var results = System.Threading.Channels.Channel.CreateUnbounded<JobResult>();
        scheduler.Completed += r => results.Writer.TryWrite(r);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = scheduler.RunAsync(stop.Token);
        await scheduler.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        async Task<DateTimeOffset> NextRunAsync(string name, DateTimeOffset after)
        {
            // The scheduler re-reads the schedules each time it wakes (at least every heartbeat, 30 s).
            for (var i = 0; i < 600; i++)
            {
                if ((await catalog.ScheduleStatesAsync(Ct)).GetValueOrDefault(name)?.NextRun is { } next && next > after)
                {
                    return next;
                }

                clock.Advance(TimeSpan.FromSeconds(30));
                await Task.Delay(50, Ct);
            }

            throw new TimeoutException($"schedule {name} was never picked up");
        }

        // Added as SaveSchedule (the API's and the CLI's `schedule add`) does: in the configuration file.
        f.Config.Edit(root => root["Schedules"] = new JsonObject { ["every5"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "*/5 * * * *" } });
        var due = await NextRunAsync("every5", DateTimeOffset.MinValue);
        clock.Advance(due - clock.GetUtcNow());
        var ran = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(ran.Succeeded, ran.Error);
        Assert.Single(await RepoBackupsAsync(f));

        // Retimed to once a year: the next run moves, and the old cron no longer runs it.
        f.Config.Edit(root => root["Schedules"]!["every5"]!["Cron"] = "0 3 1 1 *");
        var yearly = await NextRunAsync("every5", clock.GetUtcNow().AddDays(1));
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 3, 0, 0, TimeSpan.Zero), yearly);
        clock.Advance(TimeSpan.FromMinutes(20));
        await Task.Delay(200, Ct);
        Assert.False(results.Reader.TryRead(out var extra), extra?.Error);

        await stop.CancelAsync();
        await running;
        Assert.Single(await RepoBackupsAsync(f));
    }

    private static async Task<List<string>> RepoBackupsAsync(EngineFixture f)
    {
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        return await repo.ListBackupIdsAsync(Ct);
    }
}
