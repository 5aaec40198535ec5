using Lifeboat.Postgres.Tools;

namespace Lifeboat.Catalog.Tests;

/// <summary>The event log and its deliveries, the same from SQLite and PostgreSQL.</summary>
public sealed class CatalogEventsTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Kinds => new() { "sqlite", "postgresql" };

    private static async Task<(LifeboatCatalog Catalog, IAsyncDisposable Cleanup)> OpenAsync(string kind, TempDir dir)
    {
        if (kind == "sqlite")
        {
            return (await LifeboatCatalog.OpenSqliteAsync(dir.Combine("lifeboat.db"), TimeProvider.System, Ct), new Nothing());
        }

        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 (initdb, pg_ctl)");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_101_101);
        var cluster = await PostgresCluster.InitAsync(dir.Combine("pg"), PgBinaries.Process.NewestServer, Ct);
        await cluster.StartAsync(Ct);
        return (await LifeboatCatalog.OpenPostgresAsync(cluster.ConnectionString(), TimeProvider.System, Ct), cluster);
    }

    private static EventRecord Event(string id, string type, int minutes, string? source = "app", int rank = 0, string correlation = "c1", string tenant = "default") => new()
    {
        Id = id, Time = T0.AddMinutes(minutes), Tenant = tenant, Type = type, Source = source, Severity = rank switch { 0 => "info", 1 => "warning", 2 => "error", _ => "critical" },
        SeverityRank = rank, CorrelationId = correlation, Data = "{\"n\":" + minutes + "}",
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Events_are_written_with_their_run_in_one_transaction_and_listed_by_pattern_severity_window_and_correlation(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            await catalog.RecordRunAsync(new RunRecord { Id = "r1", Kind = "files", Source = "app", Status = RunStatus.Running, Started = T0 }, [Event("e1", "backup.started", 0)], Ct);
            await catalog.RecordRunAsync(new RunRecord { Id = "r1", Kind = "files", Source = "app", Status = RunStatus.Failed, Started = T0, Finished = T0.AddMinutes(1), Error = "disk full" },
                [Event("e2", "backup.failed", 1, rank: 2)], Ct);
            await catalog.AppendEventsAsync([Event("e3", "wal.archive_failed", 2, "db", 2, "c2"), Event("e4", "token.created", 3, null, 0, "c3"), Event("e5", "backup.started", 4, tenant: "other")], Ct);
            Assert.Equal(RunStatus.Failed, Assert.Single(await catalog.RunsAsync("app", null, 10, Ct)).Status);

            // A run whose transaction fails leaves neither the run nor its event: the duplicate event id aborts both.
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => catalog.RecordRunAsync(new RunRecord { Id = "r2", Kind = "files", Source = "app", Status = RunStatus.Running, Started = T0 }, [Event("e1", "backup.started", 9)], Ct));
            Assert.DoesNotContain(await catalog.RunsAsync("app", null, 10, Ct), r => r.Id == "r2");

            async Task<string[]> Ids(EventQuery q) => (await catalog.EventsAsync(q, Ct)).Select(e => e.Id).ToArray();
            Assert.Equal(["e4", "e3", "e2", "e1"], await Ids(new EventQuery("default")));
            Assert.Equal(["e2", "e1"], await Ids(new EventQuery("default", ["backup.*"])));
            Assert.Equal(["e3", "e2"], await Ids(new EventQuery("default", ["*_failed", "*.failed"])));
            // '_' is literal: "wal.archive?failed" must not match a type with another character there.
            Assert.Empty(await Ids(new EventQuery("default", ["wal_archive*"])));
            Assert.Equal(["e3", "e2"], await Ids(new EventQuery("default", MinSeverityRank: 2)));
            Assert.Equal(["e3"], await Ids(new EventQuery("default", Source: "db")));
            Assert.Equal(["e3", "e2"], await Ids(new EventQuery("default", Since: T0.AddMinutes(1), Until: T0.AddMinutes(3))));
            Assert.Equal(["e2", "e1"], await Ids(new EventQuery("default", CorrelationId: "c1")));
            Assert.Equal(["e5"], await Ids(new EventQuery("other")));
            Assert.Equal(["e2", "e1"], await Ids(new EventQuery("default", Limit: 2, Before: (T0.AddMinutes(2), "e3"))));
            Assert.Equal(["e2", "e3", "e4"], (await catalog.EventsSinceAsync("default", T0.AddMinutes(1), 10, Ct)).Select(e => e.Id));
            var e2 = await catalog.EventAsync("default", "e2", Ct);
            Assert.Equal(Event("e2", "backup.failed", 1, rank: 2), e2);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Dispatch_fans_out_once_deliveries_keep_their_schedule_and_retention_never_removes_an_undelivered_event(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            await catalog.AppendEventsAsync([Event("e1", "backup.failed", 0), Event("e2", "backup.failed", 1), Event("e3", "backup.completed", 2), Event("e4", "backup.completed", 3)], Ct);
            Assert.Equal(["e1", "e2", "e3", "e4"], (await catalog.UndispatchedEventsAsync(10, Ct)).Select(e => e.Id));
            DeliveryRecord Delivery(string id, string eventId) => new()
            {
                Id = id, Tenant = "default", Channel = "webhook:wh1", EventId = eventId, Reason = "event", State = DeliveryStates.Pending, Created = T0, NextAttempt = T0,
            };

            Assert.Equal(2, await catalog.DispatchAsync([new DispatchedEvent("e1", [Delivery("d1", "e1")]), new DispatchedEvent("e2", [Delivery("d2", "e2")]), new DispatchedEvent("e3", [])], Ct));
            // A second node dispatching the same events inserts nothing.
            Assert.Equal(0, await catalog.DispatchAsync([new DispatchedEvent("e1", [Delivery("d1b", "e1")])], Ct));
            Assert.Equal(["e4"], (await catalog.UndispatchedEventsAsync(10, Ct)).Select(e => e.Id));

            Assert.Equal(["d1", "d2"], (await catalog.DueDeliveriesAsync(T0, 10, Ct)).Select(d => d.Id));
            Assert.True(await catalog.ClaimDeliveryAsync("d1", 0, T0.AddSeconds(5), Ct));
            Assert.False(await catalog.ClaimDeliveryAsync("d1", 0, T0.AddSeconds(5), Ct));
            Assert.Equal(["d2"], (await catalog.DueDeliveriesAsync(T0, 10, Ct)).Select(d => d.Id));
            Assert.Equal(T0, await catalog.NextAttemptDueAsync(Ct));
            await catalog.RecordAttemptAsync(new DeliveryAttemptRecord("d1", 1, T0, 500, 12, "HTTP 500", "oops"), DeliveryStates.Pending, T0.AddSeconds(5), null, Ct);
            Assert.True(await catalog.ClaimDeliveryAsync("d1", 1, T0.AddMinutes(5), Ct));
            await catalog.RecordAttemptAsync(new DeliveryAttemptRecord("d1", 2, T0.AddSeconds(5), 200, 3, null, "ok"), DeliveryStates.Delivered, null, T0.AddSeconds(5), Ct);
            var d1 = await catalog.DeliveryAsync("default", "d1", Ct);
            Assert.Equal((DeliveryStates.Delivered, 2, 200), (d1!.State, d1.Attempts, d1.LastStatus));
            Assert.Equal([500, 200], (await catalog.AttemptsAsync("d1", Ct)).Select(a => a.Status ?? 0));
            Assert.True(await catalog.ClaimDeliveryAsync("d2", 0, T0.AddSeconds(5), Ct));
            await catalog.RecordAttemptAsync(new DeliveryAttemptRecord("d2", 1, T0, null, 15000, "timed out", null), DeliveryStates.Dead, null, T0, Ct);
            Assert.Equal(["d2"], (await catalog.DeliveriesAsync(new DeliveryQuery("default", State: DeliveryStates.Dead), Ct)).Select(d => d.Id));
            Assert.Equal(["d2", "d1"], (await catalog.DeliveriesAsync(new DeliveryQuery("default", Channel: "webhook:wh1"), Ct)).Select(d => d.Id));

            // Long past the retention: e1 (delivered) and e3 (no delivery) go; e2 (dead-lettered) and e4 (not dispatched) stay.
            Assert.Equal(2, await catalog.ExpireEventsAsync(T0.AddDays(1), Ct));
            Assert.Equal(["e4", "e2"], (await catalog.EventsAsync(new EventQuery("default"), Ct)).Select(e => e.Id));
            Assert.Null(await catalog.DeliveryAsync("default", "d1", Ct));
            Assert.Empty(await catalog.AttemptsAsync("d1", Ct));
            Assert.NotNull(await catalog.DeliveryAsync("default", "d2", Ct));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Webhooks_are_saved_disabled_with_their_pending_deliveries_dead_lettered_and_removed_with_them_cancelled(string kind)
    {
        using var dir = new TempDir();
        var (catalog, cleanup) = await OpenAsync(kind, dir);
        await using (cleanup)
        {
            var hook = new WebhookRecord { Id = "wh1", Tenant = "default", Url = "http://127.0.0.1:1/x", Events = "[\"*\"]", Secrets = "[]", Created = T0, Updated = T0 };
            await catalog.SaveWebhookAsync(hook, Ct);
            await catalog.SaveWebhookAsync(hook with { Id = "wh2", Tenant = "other" }, Ct);
            Assert.Equal(["wh1"], (await catalog.WebhooksAsync("default", Ct)).Select(w => w.Id));
            Assert.Equal(2, (await catalog.WebhooksAsync(null, Ct)).Count);
            await catalog.AppendEventsAsync([Event("e1", "backup.failed", 0)], Ct);
            await catalog.DispatchAsync([new DispatchedEvent("e1", [new DeliveryRecord { Id = "d1", Tenant = "default", Channel = "webhook:wh1", EventId = "e1", Reason = "event", State = DeliveryStates.Pending, Created = T0, NextAttempt = T0 }])], Ct);

            await catalog.DisableWebhookAsync("wh1", "410 Gone", T0, [Event("e2", "webhook.disabled", 1, null, 1)], Ct);
            var disabled = await catalog.WebhookAsync("default", "wh1", Ct);
            Assert.False(disabled!.Enabled);
            Assert.Equal("410 Gone", disabled.DisabledReason);
            Assert.Equal(DeliveryStates.Dead, (await catalog.DeliveryAsync("default", "d1", Ct))!.State);
            Assert.NotNull(await catalog.EventAsync("default", "e2", Ct));
            // Disabling again writes no second event.
            await catalog.DisableWebhookAsync("wh1", "410 Gone", T0, [Event("e3", "webhook.disabled", 2, null, 1)], Ct);
            Assert.Null(await catalog.EventAsync("default", "e3", Ct));

            Assert.True(await catalog.DeleteWebhookAsync("default", "wh1", T0, Ct));
            Assert.False(await catalog.DeleteWebhookAsync("default", "wh1", T0, Ct));
            Assert.Equal(DeliveryStates.Cancelled, (await catalog.DeliveryAsync("default", "d1", Ct))!.State);
        }
    }

    private sealed class Nothing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
