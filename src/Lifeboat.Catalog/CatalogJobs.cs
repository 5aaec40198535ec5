using System.Data.Common;

namespace Lifeboat.Catalog;

/// <summary>
/// One job of the server (a long operation run in the background): what it runs, its state, its progress and how it
/// ended. The Engine's <c>JobQueue</c> writes it; <see cref="Result"/>, <see cref="Error"/> and <see cref="Actor"/>
/// are JSON documents the catalog stores as text.
/// </summary>
public sealed record JobRecord
{
    /// <summary>The job's id; ids sort by creation time.</summary>
    public required string Id { get; init; }

    /// <summary>The workspace (tenant) the job belongs to.</summary>
    public required string Tenant { get; init; }

    public required string Kind { get; init; }

    public string? Source { get; init; }

    /// <summary>queued, running, succeeded, failed, cancelled or awaiting-approval.</summary>
    public required string State { get; init; }

    /// <summary>Who submitted the job (JSON).</summary>
    public required string Actor { get; init; }

    public required string CorrelationId { get; init; }

    /// <summary>The request the job runs (JSON), when the submitter recorded it.</summary>
    public string? Request { get; init; }

    public required DateTimeOffset Created { get; init; }

    public DateTimeOffset? Started { get; init; }

    public DateTimeOffset? Finished { get; init; }

    /// <summary>The server node that ran the job.</summary>
    public string? Node { get; init; }

    public string? Phase { get; init; }

    public long Bytes { get; init; }

    public long? TotalBytes { get; init; }

    public long Files { get; init; }

    /// <summary>The use case's result (JSON) when the job succeeded.</summary>
    public string? Result { get; init; }

    /// <summary>Why the job failed or was cancelled (JSON).</summary>
    public string? Error { get; init; }
}

// ---- jobs: the server's long operations, their state and progress
public sealed partial class LifeboatCatalog
{
    private const string JobColumns = "id, tenant, kind, source, state, actor, correlation_id, request, created, started, finished, node, phase, bytes, total_bytes, files, result, error";

    /// <summary>Records a job, or updates everything of a job recorded before.</summary>
    public async Task UpsertJobAsync(JobRecord job, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, $"""
            INSERT INTO jobs ({JobColumns})
            VALUES (@id, @tenant, @kind, @source, @state, @actor, @correlation, @request, @created, @started, @finished, @node, @phase, @bytes, @total, @files, @result, @error)
            ON CONFLICT (id) DO UPDATE SET state = excluded.state, started = excluded.started, finished = excluded.finished, node = excluded.node,
                phase = excluded.phase, bytes = excluded.bytes, total_bytes = excluded.total_bytes, files = excluded.files,
                result = excluded.result, error = excluded.error
            """, cancellationToken, null,
            ("id", job.Id), ("tenant", job.Tenant), ("kind", job.Kind), ("source", job.Source), ("state", job.State), ("actor", job.Actor),
            ("correlation", job.CorrelationId), ("request", job.Request), ("created", Iso(job.Created)),
            ("started", job.Started is { } s ? Iso(s) : null), ("finished", job.Finished is { } f ? Iso(f) : null), ("node", job.Node),
            ("phase", job.Phase), ("bytes", job.Bytes), ("total", job.TotalBytes), ("files", job.Files), ("result", job.Result), ("error", job.Error));
    }

    /// <summary>The job of that id in that tenant, or null.</summary>
    public async Task<JobRecord?> JobAsync(string tenant, string id, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {JobColumns} FROM jobs WHERE tenant = @tenant AND id = @id", cancellationToken, ("tenant", Scoped(tenant)), ("id", id));
        return await r.ReadAsync(cancellationToken) ? ReadJob(r) : null;
    }

    /// <summary>
    /// A tenant's jobs, newest first: at most <paramref name="limit"/>, only in <paramref name="state"/> when given, and
    /// only those older than the job <paramref name="before"/> (the last id of the previous page) when given.
    /// </summary>
    public async Task<List<JobRecord>> JobsAsync(string tenant, string? state, int limit, string? before, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = $"""
            SELECT {JobColumns} FROM jobs
            WHERE tenant = @tenant AND (CAST(@state AS TEXT) IS NULL OR state = @state) AND (CAST(@before AS TEXT) IS NULL OR id < @before)
            ORDER BY id DESC LIMIT @limit
            """;
        var result = new List<JobRecord>();
        await using var r = await ReaderAsync(c, sql, cancellationToken, ("tenant", Scoped(tenant)), ("state", state), ("before", before), ("limit", limit));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadJob(r));
        }

        return result;
    }

    /// <summary>
    /// Marks every job still <c>queued</c> or <c>running</c> as <c>failed</c> with <paramref name="error"/>, finished at
    /// <paramref name="finishedAt"/>: at start-up no job of a previous process can still be running. Returns how many.
    /// </summary>
    public async Task<int> FailInterruptedAsync(string error, DateTimeOffset finishedAt, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = Command(c, "UPDATE jobs SET state = 'failed', finished = @finished, error = @error WHERE state IN ('queued', 'running', 'awaiting-approval')", null,
            [("finished", Iso(finishedAt)), ("error", error)]);
        return await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static JobRecord ReadJob(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Tenant = r.GetString(1),
        Kind = r.GetString(2),
        Source = NullableString(r, 3),
        State = r.GetString(4),
        Actor = r.GetString(5),
        CorrelationId = r.GetString(6),
        Request = NullableString(r, 7),
        Created = ParseIso(r.GetString(8)),
        Started = r.IsDBNull(9) ? null : ParseIso(r.GetString(9)),
        Finished = r.IsDBNull(10) ? null : ParseIso(r.GetString(10)),
        Node = NullableString(r, 11),
        Phase = NullableString(r, 12),
        Bytes = r.GetInt64(13),
        TotalBytes = NullableLong(r, 14),
        Files = r.GetInt64(15),
        Result = NullableString(r, 16),
        Error = NullableString(r, 17),
    };
}
