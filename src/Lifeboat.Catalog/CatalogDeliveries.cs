using System.Data.Common;

namespace Lifeboat.Catalog;

/// <summary>A webhook endpoint. <see cref="Events"/> and <see cref="Secrets"/> are JSON documents the Engine reads.</summary>
public sealed record WebhookRecord
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Url { get; init; }

    public string? Description { get; init; }

    /// <summary>The type patterns it receives (JSON array of strings).</summary>
    public required string Events { get; init; }

    /// <summary>Its signing secrets (JSON), newest first: one, or two while a rotation overlaps.</summary>
    public required string Secrets { get; init; }

    public bool Enabled { get; init; } = true;

    public string? DisabledReason { get; init; }

    public required DateTimeOffset Created { get; init; }

    public string? CreatedBy { get; init; }

    public required DateTimeOffset Updated { get; init; }
}

/// <summary>States of a delivery.</summary>
public static class DeliveryStates
{
    /// <summary>Waiting for its next attempt (<see cref="DeliveryRecord.NextAttempt"/>).</summary>
    public const string Pending = "pending";

    public const string Delivered = "delivered";

    /// <summary>The dead-letter list: every attempt of the schedule failed, or the endpoint is disabled. Redeliver to try again.</summary>
    public const string Dead = "dead";

    /// <summary>Its channel was removed, or the routing rules suppressed it (de-duplicated, quiet period).</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>
/// One event on its way to one channel (<c>webhook:ID</c>, <c>email:NAME</c>, <c>chat:NAME</c>): why it exists
/// (<c>event</c>, <c>test</c>, <c>redeliver</c>, <c>replay</c>), its state, how many attempts were made and when the next
/// is due (persisted, so a restart keeps the schedule).
/// </summary>
public sealed record DeliveryRecord
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Channel { get; init; }

    public required string EventId { get; init; }

    public required string Reason { get; init; }

    public required string State { get; init; }

    public int Attempts { get; init; }

    public required DateTimeOffset Created { get; init; }

    public DateTimeOffset? NextAttempt { get; init; }

    public DateTimeOffset? Finished { get; init; }

    public int? LastStatus { get; init; }

    public string? LastError { get; init; }

    /// <summary>What the channel needs beyond the event (a notification's kind and incident, JSON), or null.</summary>
    public string? Detail { get; init; }
}

/// <summary>One attempt of a delivery: when, the HTTP status (or none), how long it took, the error and a response excerpt.</summary>
public sealed record DeliveryAttemptRecord(string DeliveryId, int Attempt, DateTimeOffset Time, int? Status, long LatencyMs, string? Error, string? Response);

/// <summary>What a delivery list asks for, newest first; <see cref="Before"/>: the last (created, id) of the previous page.</summary>
public sealed record DeliveryQuery(string Tenant, string? Channel = null, string? State = null, string? EventId = null, int Limit = 100, (DateTimeOffset Created, string Id)? Before = null);

/// <summary>An event fanned out: the deliveries it gets (none when nothing wants it) and the incidents it opened, held back or resolved.</summary>
public sealed record DispatchedEvent(string EventId, IReadOnlyList<DeliveryRecord> Deliveries)
{
    public IReadOnlyList<IncidentRecord> Incidents { get; init; } = [];
}

/// <summary>
/// An incident of the routing rules, by key (<c>backup:app</c>, <c>rpo:db</c>): opened by the first alert, its repeats
/// counted while held back (<see cref="Suppressed"/>), resolved by the event that ends it. <see cref="Channels"/>: the
/// channels that got the alert (JSON), which get the "resolved" message.
/// </summary>
public sealed record IncidentRecord
{
    public required string Tenant { get; init; }

    public required string Key { get; init; }

    public required string Type { get; init; }

    public string? Source { get; init; }

    public required DateTimeOffset Opened { get; init; }

    public required string OpenedEvent { get; init; }

    public required string LastEvent { get; init; }

    public required DateTimeOffset LastNotified { get; init; }

    public int Suppressed { get; init; }

    public required string Channels { get; init; }

    public DateTimeOffset? Resolved { get; init; }
}

/// <summary>Webhook endpoints, deliveries and their attempts: the persisted side of delivery.</summary>
public sealed partial class LifeboatCatalog
{
    private const string WebhookColumns = "id, tenant, url, description, events, secrets, enabled, disabled_reason, created, created_by, updated";
    private const string DeliveryColumns = "id, tenant, channel, event_id, reason, state, attempts, created, next_attempt, finished, last_status, last_error, detail";

    // ---- webhooks

    public async Task SaveWebhookAsync(WebhookRecord w, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, $"""
            INSERT INTO webhooks ({WebhookColumns}) VALUES (@id, @tenant, @url, @description, @events, @secrets, @enabled, @reason, @created, @createdBy, @updated)
            ON CONFLICT (id) DO UPDATE SET url = excluded.url, description = excluded.description, events = excluded.events, secrets = excluded.secrets,
                enabled = excluded.enabled, disabled_reason = excluded.disabled_reason, updated = excluded.updated
            """, cancellationToken, null,
            ("id", w.Id), ("tenant", w.Tenant), ("url", w.Url), ("description", w.Description), ("events", w.Events), ("secrets", w.Secrets),
            ("enabled", w.Enabled ? 1L : 0L), ("reason", w.DisabledReason), ("created", Iso(w.Created)), ("createdBy", w.CreatedBy), ("updated", Iso(w.Updated)));
    }

    public async Task<WebhookRecord?> WebhookAsync(string tenant, string id, CancellationToken cancellationToken)
        => (await ReadWebhooksAsync("tenant = @tenant AND id = @id", [("tenant", Scoped(tenant)), ("id", id)], cancellationToken)).FirstOrDefault();

    /// <summary>The tenant's webhooks (null: every tenant's), oldest first.</summary>
    public Task<List<WebhookRecord>> WebhooksAsync(string? tenant, CancellationToken cancellationToken)
        => ReadWebhooksAsync("(CAST(@tenant AS TEXT) IS NULL OR tenant = @tenant)", [("tenant", tenant is null ? null : Scoped(tenant))], cancellationToken);

    /// <summary>Removes the webhook; its deliveries not delivered yet are cancelled (they can go nowhere). False: no such webhook.</summary>
    public async Task<bool> DeleteWebhookAsync(string tenant, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using var delete = Command(c, "DELETE FROM webhooks WHERE tenant = @tenant AND id = @id", tx, [("tenant", Scoped(tenant)), ("id", id)]);
        var removed = await delete.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (removed)
        {
            await ExecAsync(c, "UPDATE deliveries SET state = 'cancelled', finished = @now, next_attempt = NULL, last_error = 'the webhook was removed' WHERE channel = @channel AND state IN ('pending', 'dead')", cancellationToken, tx,
                ("now", Iso(now)), ("channel", "webhook:" + id));
        }

        await tx.CommitAsync(cancellationToken);
        return removed;
    }

    /// <summary>
    /// Disables the webhook (it answered 410 Gone): its pending deliveries go to the dead-letter list with
    /// <paramref name="reason"/>, and <paramref name="events"/> (webhook.disabled) are written in the same transaction.
    /// </summary>
    public async Task DisableWebhookAsync(string id, string reason, DateTimeOffset now, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using var update = Command(c, "UPDATE webhooks SET enabled = 0, disabled_reason = @reason, updated = @now WHERE id = @id AND enabled = 1", tx, [("id", id), ("reason", reason), ("now", Iso(now))]);
        if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            await ExecAsync(c, "UPDATE deliveries SET state = 'dead', finished = @now, next_attempt = NULL, last_error = @reason WHERE channel = @channel AND state = 'pending'", cancellationToken, tx,
                ("now", Iso(now)), ("reason", reason), ("channel", "webhook:" + id));
            await InsertEventsAsync(c, tx, events, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    private async Task<List<WebhookRecord>> ReadWebhooksAsync(string where, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {WebhookColumns} FROM webhooks WHERE {where} ORDER BY created, id", cancellationToken, parameters);
        var result = new List<WebhookRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new WebhookRecord
            {
                Id = r.GetString(0),
                Tenant = r.GetString(1),
                Url = r.GetString(2),
                Description = NullableString(r, 3),
                Events = r.GetString(4),
                Secrets = r.GetString(5),
                Enabled = r.GetInt64(6) != 0,
                DisabledReason = NullableString(r, 7),
                Created = ParseIso(r.GetString(8)),
                CreatedBy = NullableString(r, 9),
                Updated = ParseIso(r.GetString(10)),
            });
        }

        return result;
    }

    // ---- fan-out

    /// <summary>Events not fanned out yet (of every tenant), oldest first.</summary>
    public Task<List<EventRecord>> UndispatchedEventsAsync(int limit, CancellationToken cancellationToken)
        => ReadEventsAsync($"SELECT {EventColumns} FROM events WHERE dispatched = 0 ORDER BY time, id LIMIT @limit", [("limit", limit)], cancellationToken);

    /// <summary>
    /// Marks each event dispatched and inserts its deliveries, in one transaction. An event another server node
    /// dispatched meanwhile is left alone (its deliveries are not inserted twice). Returns the deliveries inserted.
    /// </summary>
    public async Task<int> DispatchAsync(IReadOnlyList<DispatchedEvent> batch, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var inserted = 0;
        foreach (var e in batch)
        {
            await using var mark = Command(c, "UPDATE events SET dispatched = 1 WHERE id = @id AND dispatched = 0", tx, [("id", e.EventId)]);
            if (await mark.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                continue;
            }

            foreach (var d in e.Deliveries)
            {
                await InsertDeliveryAsync(c, tx, d, cancellationToken);
                inserted++;
            }

            foreach (var i in e.Incidents)
            {
                await ExecAsync(c, $"""
                    INSERT INTO incidents ({IncidentColumns}) VALUES (@tenant, @key, @type, @source, @opened, @openedEvent, @lastEvent, @notified, @suppressed, @channels, @resolved)
                    ON CONFLICT (tenant, key) DO UPDATE SET type = excluded.type, source = excluded.source, opened = excluded.opened, opened_event = excluded.opened_event,
                        last_event = excluded.last_event, last_notified = excluded.last_notified, suppressed = excluded.suppressed, channels = excluded.channels, resolved = excluded.resolved
                    """, cancellationToken, tx,
                    ("tenant", i.Tenant), ("key", i.Key), ("type", i.Type), ("source", i.Source), ("opened", Iso(i.Opened)), ("openedEvent", i.OpenedEvent), ("lastEvent", i.LastEvent),
                    ("notified", Iso(i.LastNotified)), ("suppressed", (long)i.Suppressed), ("channels", i.Channels), ("resolved", i.Resolved is { } r ? Iso(r) : null));
            }
        }

        await tx.CommitAsync(cancellationToken);
        return inserted;
    }

    // ---- incidents

    private const string IncidentColumns = "tenant, key, type, source, opened, opened_event, last_event, last_notified, suppressed, channels, resolved";

    /// <summary>The incident of that key (open or resolved), or null.</summary>
    public async Task<IncidentRecord?> IncidentAsync(string tenant, string key, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {IncidentColumns} FROM incidents WHERE tenant = @tenant AND key = @key", cancellationToken, ("tenant", Scoped(tenant)), ("key", key));
        if (!await r.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new IncidentRecord
        {
            Tenant = r.GetString(0), Key = r.GetString(1), Type = r.GetString(2), Source = NullableString(r, 3), Opened = ParseIso(r.GetString(4)),
            OpenedEvent = r.GetString(5), LastEvent = r.GetString(6), LastNotified = ParseIso(r.GetString(7)), Suppressed = (int)r.GetInt64(8),
            Channels = r.GetString(9), Resolved = r.IsDBNull(10) ? null : ParseIso(r.GetString(10)),
        };
    }

    // ---- deliveries

    /// <summary>Inserts deliveries (a test, a redelivery, a replay) and the events they carry that are not in the log yet.</summary>
    public async Task InsertDeliveriesAsync(IReadOnlyList<DeliveryRecord> deliveries, IReadOnlyList<EventRecord> newEvents, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        foreach (var e in newEvents)
        {
            // Written dispatched: such an event goes to its one channel, never to the others.
            await ExecAsync(c, $"INSERT INTO events ({EventColumns}, dispatched) VALUES (@id, @time, @tenant, @type, @source, @severity, @rank, @correlation, @data, 1)", cancellationToken, tx,
                ("id", e.Id), ("time", Iso(e.Time)), ("tenant", e.Tenant), ("type", e.Type), ("source", e.Source), ("severity", e.Severity), ("rank", (long)e.SeverityRank),
                ("correlation", e.CorrelationId), ("data", e.Data));
        }

        foreach (var d in deliveries)
        {
            await InsertDeliveryAsync(c, tx, d, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Pending deliveries whose next attempt is due at <paramref name="now"/>, the most overdue first.</summary>
    public Task<List<DeliveryRecord>> DueDeliveriesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
        => ReadDeliveriesAsync($"SELECT {DeliveryColumns} FROM deliveries WHERE state = 'pending' AND next_attempt <= @now ORDER BY next_attempt, id LIMIT @limit",
            [("now", Iso(now)), ("limit", limit)], cancellationToken);

    /// <summary>When the next pending attempt is due, or null when none is pending.</summary>
    public async Task<DateTimeOffset?> NextAttemptDueAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return await ScalarAsync(c, "SELECT MIN(next_attempt) FROM deliveries WHERE state = 'pending'", cancellationToken) is string s ? ParseIso(s) : null;
    }

    /// <summary>
    /// Claims the next attempt of a delivery before it is made: counts it and moves the next attempt to
    /// <paramref name="retryAt"/>, so that if this process dies during the attempt the delivery is retried on schedule and
    /// the attempt is never made twice. False: another worker claimed it, or it is no longer pending.
    /// </summary>
    public async Task<bool> ClaimDeliveryAsync(string id, int attempts, DateTimeOffset retryAt, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var claim = Command(c, "UPDATE deliveries SET attempts = attempts + 1, next_attempt = @retry WHERE id = @id AND state = 'pending' AND attempts = @attempts", null,
            [("id", id), ("attempts", (long)attempts), ("retry", Iso(retryAt))]);
        return await claim.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Records an attempt and what follows it (delivered, the next attempt, the dead-letter list), in one transaction.</summary>
    public async Task RecordAttemptAsync(DeliveryAttemptRecord attempt, string state, DateTimeOffset? nextAttempt, DateTimeOffset? finished, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await ExecAsync(c, "INSERT INTO delivery_attempts (delivery_id, attempt, time, status, latency_ms, error, response) VALUES (@id, @attempt, @time, @status, @latency, @error, @response)", cancellationToken, tx,
            ("id", attempt.DeliveryId), ("attempt", (long)attempt.Attempt), ("time", Iso(attempt.Time)), ("status", attempt.Status is { } s ? (long)s : null),
            ("latency", attempt.LatencyMs), ("error", attempt.Error), ("response", attempt.Response));
        await ExecAsync(c, "UPDATE deliveries SET state = @state, next_attempt = @next, finished = @finished, last_status = @status, last_error = @error WHERE id = @id", cancellationToken, tx,
            ("id", attempt.DeliveryId), ("state", state), ("next", nextAttempt is { } n ? Iso(n) : null), ("finished", finished is { } f ? Iso(f) : null),
            ("status", attempt.Status is { } st ? (long)st : null), ("error", attempt.Error));
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Changes a delivery's state without an attempt (a channel that is gone, a suppressed notification).</summary>
    public async Task SetDeliveryStateAsync(string id, string state, string? error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, "UPDATE deliveries SET state = @state, next_attempt = NULL, finished = @now, last_error = @error WHERE id = @id", cancellationToken, null,
            ("id", id), ("state", state), ("now", Iso(now)), ("error", error));
    }

    public async Task<DeliveryRecord?> DeliveryAsync(string tenant, string id, CancellationToken cancellationToken)
        => (await ReadDeliveriesAsync($"SELECT {DeliveryColumns} FROM deliveries WHERE tenant = @tenant AND id = @id", [("tenant", Scoped(tenant)), ("id", id)], cancellationToken)).FirstOrDefault();

    /// <summary>The deliveries <paramref name="query"/> asks for, newest first.</summary>
    public Task<List<DeliveryRecord>> DeliveriesAsync(DeliveryQuery query, CancellationToken cancellationToken)
        => ReadDeliveriesAsync($"""
            SELECT {DeliveryColumns} FROM deliveries
            WHERE tenant = @tenant AND (CAST(@channel AS TEXT) IS NULL OR channel = @channel) AND (CAST(@state AS TEXT) IS NULL OR state = @state)
              AND (CAST(@event AS TEXT) IS NULL OR event_id = @event)
              AND (CAST(@beforeTime AS TEXT) IS NULL OR created < @beforeTime OR (created = @beforeTime AND id < @beforeId))
            ORDER BY created DESC, id DESC LIMIT @limit
            """,
            [("tenant", Scoped(query.Tenant)), ("channel", query.Channel), ("state", query.State), ("event", query.EventId), ("beforeTime", query.Before is { } b ? Iso(b.Created) : null),
             ("beforeId", query.Before?.Id ?? ""), ("limit", query.Limit)], cancellationToken);

    /// <summary>The attempts of a delivery, first first.</summary>
    public async Task<List<DeliveryAttemptRecord>> AttemptsAsync(string deliveryId, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, "SELECT delivery_id, attempt, time, status, latency_ms, error, response FROM delivery_attempts WHERE delivery_id = @id ORDER BY attempt", cancellationToken, ("id", deliveryId));
        var result = new List<DeliveryAttemptRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new DeliveryAttemptRecord(r.GetString(0), (int)r.GetInt64(1), ParseIso(r.GetString(2)), r.IsDBNull(3) ? null : (int)r.GetInt64(3), r.GetInt64(4), NullableString(r, 5), NullableString(r, 6)));
        }

        return result;
    }

    /// <summary>Deliveries by state (tests and the benchmark count with it).</summary>
    public async Task<Dictionary<string, long>> DeliveryCountsAsync(string tenant, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, "SELECT state, COUNT(*) FROM deliveries WHERE tenant = @tenant GROUP BY state", cancellationToken, ("tenant", Scoped(tenant)));
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await r.ReadAsync(cancellationToken))
        {
            result[r.GetString(0)] = r.GetInt64(1);
        }

        return result;
    }

    private static Task InsertDeliveryAsync(DbConnection c, DbTransaction tx, DeliveryRecord d, CancellationToken cancellationToken)
        => ExecAsync(c, $"INSERT INTO deliveries ({DeliveryColumns}) VALUES (@id, @tenant, @channel, @event, @reason, @state, @attempts, @created, @next, @finished, @status, @error, @detail)", cancellationToken, tx,
            ("id", d.Id), ("tenant", d.Tenant), ("channel", d.Channel), ("event", d.EventId), ("reason", d.Reason), ("state", d.State), ("attempts", (long)d.Attempts),
            ("created", Iso(d.Created)), ("next", d.NextAttempt is { } n ? Iso(n) : null), ("finished", d.Finished is { } f ? Iso(f) : null),
            ("status", d.LastStatus is { } s ? (long)s : null), ("error", d.LastError), ("detail", d.Detail));

    private async Task<List<DeliveryRecord>> ReadDeliveriesAsync(string sql, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, sql, cancellationToken, parameters);
        var result = new List<DeliveryRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new DeliveryRecord
            {
                Id = r.GetString(0),
                Tenant = r.GetString(1),
                Channel = r.GetString(2),
                EventId = r.GetString(3),
                Reason = r.GetString(4),
                State = r.GetString(5),
                Attempts = (int)r.GetInt64(6),
                Created = ParseIso(r.GetString(7)),
                NextAttempt = r.IsDBNull(8) ? null : ParseIso(r.GetString(8)),
                Finished = r.IsDBNull(9) ? null : ParseIso(r.GetString(9)),
                LastStatus = r.IsDBNull(10) ? null : (int)r.GetInt64(10),
                LastError = NullableString(r, 11),
                Detail = NullableString(r, 12),
            });
        }

        return result;
    }
}
