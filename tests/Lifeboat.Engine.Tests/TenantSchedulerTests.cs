using System.Text.Json.Nodes;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.EventLog;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Engine.UseCases.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>A tenant's scheduler (docs/tenants.md): a suspended tenant's due run is skipped with an event; resume runs the next.</summary>
public sealed class TenantSchedulerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_suspended_tenants_due_run_is_skipped_with_schedule_skipped_and_the_next_runs_after_resume()
    {
        using var f = new EngineFixture();
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 1, 58, 0, TimeSpan.Zero));
        var admin = f.Use<TenantAdmin>(time: clock);
        await admin.AddAsync(new AddTenantRequest("acme"), Ct);
        var acme = TenantWorkspaces.Open(f.Workspace(), "acme");
        acme.EditConfig(root =>
        {
            ConfigFile.Section(root, "Sources")["app"] = new JsonObject { ["Kind"] = "files", ["Path"] = f.Source };
            root["Schedules"] = new JsonObject { ["every5"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "*/5 * * * *" } };
        });
        await f.Use<TenantAdmin>(time: clock).SuspendAsync(new ChangeTenantRequest("acme", "unpaid invoice"), Ct);

        var services = f.Services(time: clock);
        var scheduler = new Scheduler(() => TenantWorkspaces.Open(f.Workspace(), "acme"), services.GetRequiredService<IServiceScopeFactory>(), clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Scheduler>.Instance);
        var results = System.Threading.Channels.Channel.CreateUnbounded<JobResult>();
        scheduler.Completed += r => results.Writer.TryWrite(r);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = scheduler.RunAsync(stop.Token);
        await scheduler.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        clock.Advance(TimeSpan.FromMinutes(2)); // 02:00 is due
        var skipped = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(skipped.Skipped);
        Assert.Contains("tenant 'acme' is suspended (unpaid invoice)", skipped.Error, StringComparison.Ordinal);
        await using (var repo = await Use<RepositoryOpener>(f, acme, clock).OpenAsync(Ct))
        {
            Assert.Empty(await repo.ListBackupIdsAsync(Ct));
        }

        var events = await Use<ListEvents>(f, acme, clock).ExecuteAsync(new ListEventsRequest(Type: "schedule.skipped"), Ct);
        var e = Assert.Single(events.Items);
        Assert.Equal("acme", e.Tenant);
        Assert.Equal("app", e.Source);
        // The server's own log has none of the tenant's events.
        Assert.Empty((await f.Use<ListEvents>(time: clock).ExecuteAsync(new ListEventsRequest(Type: "schedule.skipped"), Ct)).Items);

        await f.Use<TenantAdmin>(time: clock).ResumeAsync(new ChangeTenantRequest("acme"), Ct);
        clock.Advance(TimeSpan.FromMinutes(5)); // 02:05
        var ran = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(ran.Succeeded, ran.Error);
        await using (var repo = await Use<RepositoryOpener>(f, acme, clock).OpenAsync(Ct))
        {
            Assert.Single(await repo.ListBackupIdsAsync(Ct));
        }

        // The default workspace's catalog rows hold nothing of the tenant's schedule or backup.
        var host = await f.Use<CatalogAccess>(time: clock).OpenAsync(Ct);
        Assert.Empty(await host.ScheduleStatesAsync(Ct));
        Assert.Empty(await host.BackupsAsync(null, Ct));
        await stop.CancelAsync();
        await running;
    }

    private static T Use<T>(EngineFixture f, Workspace workspace, TimeProvider time)
        where T : notnull
    {
        var scope = f.Services(time: time).CreateScope();
        scope.ServiceProvider.GetRequiredService<CallContext>().Workspace = workspace;
        return scope.ServiceProvider.GetRequiredService<T>();
    }
}
