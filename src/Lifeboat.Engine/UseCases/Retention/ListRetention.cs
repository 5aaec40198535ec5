using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.UseCases.Retention;

public sealed record ListRetentionRequest;

public sealed record ListRetentionResult(IReadOnlyList<SourceRetention> Sources);

/// <summary><c>GET /api/v1/retention</c>: every source's retention policy and PITR window, with the targets that override it.</summary>
public sealed class ListRetention : IUseCase<ListRetentionRequest, ListRetentionResult>
{
    private readonly Workspace _workspace;

    public ListRetention(Workspace workspace) => _workspace = workspace;

    public Task<ListRetentionResult> ExecuteAsync(ListRetentionRequest request, CancellationToken cancellationToken)
    {
        var targets = _workspace.All();
        return Task.FromResult(new ListRetentionResult(
            _workspace.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => SourceRetention.From(s.Key, s.Value, targets)).ToList()));
    }
}
