using Lifeboat.Engine.Application;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Restores;

/// <summary>
/// `restore --source`: a cluster with point-in-time recovery, a database or some of its tables, a file tree, a config
/// set — whatever the source's kind restores to (<see cref="ISourceHandler.RestoreAsync"/>). Every chunk is verified as
/// it is read; restoring over existing data asks the approval gate; the run is recorded.
/// </summary>
public sealed class RestoreSource : IUseCase<RestoreSourceRequest, RestoreSourceResult>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly Runs _runs;

    public RestoreSource(Workspace workspace, SourceHandlers handlers, Runs runs)
    {
        _workspace = workspace;
        _handlers = handlers;
        _runs = runs;
    }

    public Task<RestoreSourceResult> ExecuteAsync(RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        request.Validate();
        var source = _workspace.GetSource(request.Source);
        return _runs.RecordAsync(
            new RunInfo(RunOperations.Restore, Catalog.JobKinds.Restore, request.Source),
            () => _handlers.For(source).RestoreAsync(request.Source, source, request, cancellationToken),
            r => new RunFigures(0, 0, r.Backup),
            cancellationToken);
    }
}
