using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.EventLog;

public sealed record ExpireEventsRequest;

/// <param name="Cutoff">Events older than this were removed when they were done with.</param>
public sealed record ExpireEventsResult(DateTimeOffset Cutoff, int Removed);

/// <summary>
/// The event log's retention (Events:Retention, default 400 days), run by the server about once an hour: removes the
/// events older than that which are dispatched and delivered — never one still pending or dead-lettered — with their
/// delivery log.
/// </summary>
public sealed class ExpireEvents : IUseCase<ExpireEventsRequest, ExpireEventsResult>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public ExpireEvents(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public async Task<ExpireEventsResult> ExecuteAsync(ExpireEventsRequest request, CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _workspace.Options.Events.Retention;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        return new ExpireEventsResult(cutoff, await catalog.ExpireEventsAsync(cutoff, cancellationToken));
    }
}
