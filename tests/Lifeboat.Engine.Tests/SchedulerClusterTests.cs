using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Postgres.Tools;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>Two scheduler nodes on one PostgreSQL catalog: each due run happens once, and a dead node's run is taken over.</summary>
public sealed class SchedulerClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<PostgresCluster> CatalogServerAsync(EngineFixture f)
    {
        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 (initdb, pg_ctl)");
        File.SetUnixFileMode(f.Dir.Path, (UnixFileMode)0b111_101_101);
        var cluster = await PostgresCluster.InitAsync(f.Dir.Combine("pg"), PgBinaries.Process.NewestServer, Ct);
        await cluster.StartAsync(Ct);
        f.Config.Edit(root =>
        {
            root["Catalog"] = new JsonObject { ["ConnectionString"] = cluster.ConnectionString() };
            root["Schedules"] = new JsonObject { ["every5"] = new JsonObject { ["Source"] = "app", ["Kind"] = "backup", ["Cron"] = "*/5 * * * *" } };
        });
        return cluster;
    }

    private static Scheduler Node(EngineFixture f, FakeTimeProvider clock, string name, System.Threading.Channels.Channel<(string Node, JobResult Result)> results)
    {
        var scheduler = new Scheduler(() => f.Workspace(), f.Services(time: clock).GetRequiredService<IServiceScopeFactory>(), clock, NullLogger<Scheduler>.Instance, new SchedulerOptions { Node = name });
        scheduler.Completed += r => results.Writer.TryWrite((name, r));
        return scheduler;
    }

    [Fact]
    public async Task Two_nodes_on_one_catalog_run_each_due_run_once()
    {
        using var f = new EngineFixture();
        await using var server = await CatalogServerAsync(f);
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-20T02:01:00Z", CultureInfo.InvariantCulture));
        var results = System.Threading.Channels.Channel.CreateUnbounded<(string Node, JobResult Result)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var nodeA = Node(f, clock, "node-a", results);
        var nodeB = Node(f, clock, "node-b", results);
        var a = nodeA.RunAsync(stop.Token);
        var b = nodeB.RunAsync(stop.Token);
        await Task.WhenAll(nodeA.Ready, nodeB.Ready).WaitAsync(TimeSpan.FromSeconds(60), Ct); // both wait for 02:05

        for (var round = 1; round <= 2; round++)
        {
            clock.Advance(TimeSpan.FromMinutes(5));
            var (node, result) = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.True(result.Succeeded, result.Error);
        }

        // Stopping waits for every run each node started (the losing claims included): then nothing ran twice.
        await stop.CancelAsync();
        await Task.WhenAll(a, b);
        Assert.False(results.Reader.TryRead(out var extra), $"a due run ran twice, the second time on {extra.Node}");
        await using (var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct))
        {
            Assert.Equal(2, (await repo.ListBackupIdsAsync(Ct)).Count);
        }

        var catalog = await f.Use<CatalogAccess>().OpenAsync(Ct);
        var claims = await catalog.ScheduledRunsAsync("every5", Ct);
        Assert.Equal(2, claims.Count);
        Assert.All(claims, c => Assert.Equal(RunStatus.Succeeded, c.Status));
    }

    [Fact]
    public async Task A_run_whose_node_died_is_taken_over_by_another_node()
    {
        using var f = new EngineFixture();
        await using var server = await CatalogServerAsync(f);
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-20T02:01:00Z", CultureInfo.InvariantCulture));
        var catalog = await f.Use<CatalogAccess>(time: clock).OpenAsync(Ct);
        var due = DateTimeOffset.Parse("2026-11-20T02:00:00Z", CultureInfo.InvariantCulture);
        // A node claimed the 02:00 run a minute ago and then died: its heartbeat stopped.
        Assert.True(await catalog.ClaimScheduledRunAsync("every5", due, "dead-node", clock.GetUtcNow().AddHours(-1), Ct));
        Assert.False(await catalog.ClaimScheduledRunAsync("every5", due, "node-b", clock.GetUtcNow().AddMinutes(-2), Ct)); // still fresh: not taken

        var results = System.Threading.Channels.Channel.CreateUnbounded<(string Node, JobResult Result)>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var nodeB = Node(f, clock, "node-b", results);
        var b = nodeB.RunAsync(stop.Token);
        await nodeB.Ready.WaitAsync(TimeSpan.FromSeconds(60), Ct); // its first pass found the claim fresh
        Assert.False(results.Reader.TryRead(out _)); // within the lease: nobody takes it
        clock.Advance(TimeSpan.FromMinutes(3)); // the dead node's heartbeat is now 3 minutes old (lease: 2); 02:05 is not due yet
        var (node, result) = await results.Reader.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal("node-b", node);
        Assert.True(result.Succeeded, result.Error);
        await stop.CancelAsync();
        await b; // the run's claim is recorded finished before the scheduler stops
        var claim = (await catalog.ScheduledRunsAsync("every5", Ct)).Single(c => c.Due == due);
        Assert.Equal("node-b", claim.Node);
        Assert.Equal(1, claim.Takeovers);
        Assert.Equal(RunStatus.Succeeded, claim.Status);
    }
}
