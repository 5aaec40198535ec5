using Lifeboat.Engine.Application;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Sources;

public sealed record ListSourcesRequest;

public sealed record ListSourcesResult(string ConfigPath, IReadOnlyList<SourceSummary> Sources);

/// <summary>`source list`: the configured sources, whatever their kind.</summary>
public sealed class ListSources : IUseCase<ListSourcesRequest, ListSourcesResult>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;

    public ListSources(Workspace workspace, SourceHandlers handlers)
    {
        _workspace = workspace;
        _handlers = handlers;
    }

    public Task<ListSourcesResult> ExecuteAsync(ListSourcesRequest request, CancellationToken cancellationToken)
        => Task.FromResult(new ListSourcesResult(
            _workspace.Config.Path,
            _workspace.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => _handlers.For(s.Value).Summarize(s.Key, s.Value)).ToList()));
}
