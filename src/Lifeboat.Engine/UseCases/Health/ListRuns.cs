using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Health;

/// <param name="Source">Only runs of this source.</param>
/// <param name="Kind">Only runs of this kind (full, incr, logical, files, restore, verify, drill, …).</param>
/// <param name="Limit">At most this many, newest first (1–1000).</param>
public sealed record ListRunsRequest(string? Source = null, string? Kind = null, int Limit = 50);

/// <summary>One run of the history: what ran, on what, when, how it ended and what it moved.</summary>
public sealed record RunView(string Id, string Kind, string? Source, string? Target, string Status, DateTimeOffset Started, DateTimeOffset? Finished, long? DurationMs, long BytesRead, long BytesStored, string? BackupId, string? Error)
{
    public static RunView From(RunRecord r) => new(r.Id, r.Kind, r.Source, r.Target, r.Status, r.Started, r.Finished, r.DurationMs, r.BytesRead, r.BytesStored, r.BackupId, r.Error);
}

public sealed record ListRunsResult(IReadOnlyList<RunView> Runs);

/// <summary>The run history in the catalog: every backup, restore, verify, drill, expire, replicate and job, newest first.</summary>
public sealed class ListRuns : IUseCase<ListRunsRequest, ListRunsResult>
{
    private readonly CatalogAccess _catalog;

    public ListRuns(CatalogAccess catalog) => _catalog = catalog;

    public async Task<ListRunsResult> ExecuteAsync(ListRunsRequest request, CancellationToken cancellationToken)
    {
        if (request.Limit is < 1 or > 1000)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«limit» {request.Limit} is out of range", "ask for 1 to 1000 runs");
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var runs = await catalog.RunsAsync(request.Source, request.Kind, request.Limit, cancellationToken);
        return new ListRunsResult(runs.Select(RunView.From).ToList());
    }
}
