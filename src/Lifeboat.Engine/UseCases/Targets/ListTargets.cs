using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.UseCases.Targets;

public sealed record ListTargetsRequest;

/// <summary>The last replication run to a target.</summary>
public sealed record LastReplication(DateTimeOffset Time, string Status, string? Error);

/// <param name="Url">Redacted.</param>
/// <param name="Retention">The target's retention for people.</param>
/// <param name="ReplicateAfterBackup">Null for the primary.</param>
public sealed record TargetSummary(string Name, string Url, bool Primary, string Retention, bool PushWal, bool? ReplicateAfterBackup, LastReplication? LastReplication);

public sealed record ListTargetsResult(IReadOnlyList<TargetSummary> Targets);

/// <summary>`repo target list`: the primary and every secondary, with the last replication to each.</summary>
public sealed class ListTargets : IUseCase<ListTargetsRequest, ListTargetsResult>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;

    public ListTargets(Workspace workspace, CatalogAccess catalog)
    {
        _workspace = workspace;
        _catalog = catalog;
    }

    public async Task<ListTargetsResult> ExecuteAsync(ListTargetsRequest request, CancellationToken cancellationToken)
    {
        var last = await LastReplicationsAsync(cancellationToken);
        return new ListTargetsResult(_workspace.All().Select(t => new TargetSummary(
            t.Name,
            Redact.Url(t.Url),
            t.IsPrimary,
            t.RetentionText,
            t.Options?.PushWal ?? true,
            t.Options?.ReplicateAfterBackup,
            last.TryGetValue(t.Name, out var run) ? new LastReplication(run.Started, run.Status.ToLowerInvariant(), run.Error) : null)).ToList());
    }

    private async Task<Dictionary<string, RunRecord>> LastReplicationsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            var runs = await catalog.RunsAsync(null, JobKinds.Replicate, 200, cancellationToken);
            return runs.Where(r => r.Target is not null).GroupBy(r => r.Target!).ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.Started).First());
        }
        catch (LifeboatException)
        {
            return [];
        }
    }
}
