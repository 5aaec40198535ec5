using System.Data.Common;
using System.Text;

namespace Lifeboat.Catalog;

/// <summary>
/// One event as the catalog keeps it (docs/events.md): the envelope's fields as columns, its data as JSON text without
/// secrets. <see cref="SeverityRank"/> orders severities (info 0, warning 1, error 2, critical 3) for "at least" filters.
/// </summary>
public sealed record EventRecord
{
    public required string Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string Tenant { get; init; }

    public required string Type { get; init; }

    public string? Source { get; init; }

    public required string Severity { get; init; }

    public required int SeverityRank { get; init; }

    public required string CorrelationId { get; init; }

    /// <summary>The event's data (JSON).</summary>
    public required string Data { get; init; }
}

/// <summary>
/// What a list of events asks for. <see cref="Types"/> are patterns (<c>backup.*</c>, <c>*.failed</c>; <c>*</c> matches
/// any run of characters); <see cref="MinSeverityRank"/>: at least that severity; <see cref="Before"/>: the last
/// (time, id) of the previous page (newest first).
/// </summary>
public sealed record EventQuery(
    string Tenant,
    IReadOnlyList<string>? Types = null,
    string? Source = null,
    int? MinSeverityRank = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    string? CorrelationId = null,
    int Limit = 100,
    (DateTimeOffset Time, string Id)? Before = null);

/// <summary>
/// The event log: the outbox every change writes its events into, in the same transaction as the change (a run, a
/// token, a maintenance window). Events are read newest first with a (time, id) cursor, tailed oldest first by the live
/// stream, and fanned out to deliveries by the server (<c>dispatched</c>). Retention never removes an event that was not
/// dispatched yet or that has a delivery still pending or dead-lettered.
/// </summary>
public sealed partial class LifeboatCatalog
{
    private const string EventColumns = "id, time, tenant, type, source, severity, severity_rank, correlation_id, data";

    /// <summary>Appends events on their own (a change that lives outside the catalog: the configuration file, the repository).</summary>
    public async Task AppendEventsAsync(IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Records a run (a new one, or its end) and the events it caused, in one transaction.</summary>
    public async Task RecordRunAsync(RunRecord run, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await UpsertRunAsync(c, tx, run, cancellationToken);
        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The events <paramref name="query"/> asks for, newest first (ties by id, descending).</summary>
    public async Task<List<EventRecord>> EventsAsync(EventQuery query, CancellationToken cancellationToken)
    {
        var where = new StringBuilder("tenant = @tenant");
        var parameters = new List<(string, object?)> { ("tenant", Scoped(query.Tenant)), ("limit", query.Limit) };
        AddTypeFilter(where, parameters, query.Types);
        if (query.Source is not null)
        {
            where.Append(" AND source = @source");
            parameters.Add(("source", query.Source));
        }

        if (query.MinSeverityRank is { } rank)
        {
            where.Append(" AND severity_rank >= @rank");
            parameters.Add(("rank", (long)rank));
        }

        if (query.Since is { } since)
        {
            where.Append(" AND time >= @since");
            parameters.Add(("since", Iso(since)));
        }

        if (query.Until is { } until)
        {
            where.Append(" AND time < @until");
            parameters.Add(("until", Iso(until)));
        }

        if (query.CorrelationId is not null)
        {
            where.Append(" AND correlation_id = @correlation");
            parameters.Add(("correlation", query.CorrelationId));
        }

        if (query.Before is { } before)
        {
            where.Append(" AND (time < @beforeTime OR (time = @beforeTime AND id < @beforeId))");
            parameters.Add(("beforeTime", Iso(before.Time)));
            parameters.Add(("beforeId", before.Id));
        }

        return await ReadEventsAsync($"SELECT {EventColumns} FROM events WHERE {where} ORDER BY time DESC, id DESC LIMIT @limit", parameters, cancellationToken);
    }

    /// <summary>
    /// The tenant's events at or after <paramref name="since"/>, oldest first (the live stream's tail: it asks again
    /// from a little before the last event it sent and skips those it has seen, so an event committed late is not missed).
    /// </summary>
    public Task<List<EventRecord>> EventsSinceAsync(string tenant, DateTimeOffset since, int limit, CancellationToken cancellationToken)
        => ReadEventsAsync($"SELECT {EventColumns} FROM events WHERE tenant = @tenant AND time >= @since ORDER BY time, id LIMIT @limit",
            [("tenant", Scoped(tenant)), ("since", Iso(since)), ("limit", limit)], cancellationToken);

    /// <summary>One event by id, or null.</summary>
    public async Task<EventRecord?> EventAsync(string tenant, string id, CancellationToken cancellationToken)
        => (await ReadEventsAsync($"SELECT {EventColumns} FROM events WHERE tenant = @tenant AND id = @id", [("tenant", Scoped(tenant)), ("id", id)], cancellationToken)).FirstOrDefault();

    /// <summary>
    /// Removes the events older than <paramref name="cutoff"/> that are done with: dispatched, and without a delivery
    /// still pending or dead-lettered (an undelivered event stays, however old). Their delivered (or cancelled)
    /// deliveries and attempts go with them. Returns how many events were removed.
    /// </summary>
    public async Task<int> ExpireEventsAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        const string Done = """
            time < @cutoff AND dispatched = 1
            AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = events.id AND d.state NOT IN ('delivered', 'cancelled'))
            """;
        await ExecAsync(c, $"DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT d.id FROM deliveries d JOIN events ON events.id = d.event_id WHERE {Done})", cancellationToken, tx, ("cutoff", Iso(cutoff)));
        await ExecAsync(c, $"DELETE FROM deliveries WHERE event_id IN (SELECT id FROM events WHERE {Done})", cancellationToken, tx, ("cutoff", Iso(cutoff)));
        await using var delete = Command(c, $"DELETE FROM events WHERE {Done}", tx, [("cutoff", Iso(cutoff))]);
        var removed = await delete.ExecuteNonQueryAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return removed;
    }

    /// <summary>How many events the tenant has (tests, the benchmark).</summary>
    public async Task<long> CountEventsAsync(string tenant, string? type, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return Convert.ToInt64(await ScalarAsync(c, "SELECT COUNT(*) FROM events WHERE tenant = @tenant AND (CAST(@type AS TEXT) IS NULL OR type = @type)", cancellationToken,
            ("tenant", Scoped(tenant)), ("type", type)), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static async Task InsertEventsAsync(DbConnection c, DbTransaction tx, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        foreach (var e in events)
        {
            await ExecAsync(c, $"INSERT INTO events ({EventColumns}, dispatched) VALUES (@id, @time, @tenant, @type, @source, @severity, @rank, @correlation, @data, 0)", cancellationToken, tx,
                ("id", e.Id), ("time", Iso(e.Time)), ("tenant", e.Tenant), ("type", e.Type), ("source", e.Source), ("severity", e.Severity), ("rank", (long)e.SeverityRank),
                ("correlation", e.CorrelationId), ("data", e.Data));
        }
    }

    private static void AddTypeFilter(StringBuilder where, List<(string, object?)> parameters, IReadOnlyList<string>? types)
    {
        if (types is not { Count: > 0 })
        {
            return;
        }

        where.Append(" AND (");
        for (var i = 0; i < types.Count; i++)
        {
            where.Append(i == 0 ? "" : " OR ").Append(System.Globalization.CultureInfo.InvariantCulture, $"type LIKE @type{i} ESCAPE '\\'");
            parameters.Add(($"type{i}", LikePattern(types[i])));
        }

        where.Append(')');
    }

    /// <summary>A type pattern as a LIKE pattern: <c>*</c> → <c>%</c>; LIKE's own wildcards (<c>_</c> is in many types) escaped.</summary>
    internal static string LikePattern(string pattern)
        => pattern.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal).Replace('*', '%');

    private async Task<List<EventRecord>> ReadEventsAsync(string sql, List<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, sql, cancellationToken, parameters.ToArray());
        var result = new List<EventRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadEvent(r));
        }

        return result;
    }

    private static EventRecord ReadEvent(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Time = ParseIso(r.GetString(1)),
        Tenant = r.GetString(2),
        Type = r.GetString(3),
        Source = NullableString(r, 4),
        Severity = r.GetString(5),
        SeverityRank = (int)r.GetInt64(6),
        CorrelationId = r.GetString(7),
        Data = r.GetString(8),
    };
}
