using Lifeboat.Engine.Application;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Restores;

/// <summary>
/// `restore --source`: a cluster with point-in-time recovery, a database or some of its tables, a file tree, a config
/// set — whatever the source's kind restores to (<see cref="ISourceHandler.RestoreAsync"/>). Every chunk is verified as
/// it is read; restoring over existing data asks the approval gate; the run is recorded. Refused while the source is
/// in maintenance mode; holds the source's operation lock while it runs.
/// </summary>
public sealed class RestoreSource : IUseCase<RestoreSourceRequest, RestoreSourceResult>, IAdmitsJobs<RestoreSourceRequest>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly Runs _runs;
    private readonly MaintenanceGate _maintenance;
    private readonly OperationLocks _locks;

    public RestoreSource(Workspace workspace, SourceHandlers handlers, Runs runs, MaintenanceGate maintenance, OperationLocks locks)
    {
        _workspace = workspace;
        _handlers = handlers;
        _runs = runs;
        _maintenance = maintenance;
        _locks = locks;
    }

    /// <summary>Refuses at once a restore of a source in maintenance or busy with another operation.</summary>
    public async Task AdmitAsync(RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        // Bad input is not checked here: the job fails with it.
        await _maintenance.EnsureOpenAsync(request.Source, $"restore of '{request.Source}'", cancellationToken);
        if (request.Source is not null && _workspace.Options.Sources.ContainsKey(request.Source))
        {
            _locks.EnsureFree(request.Source);
        }
    }

    public async Task<RestoreSourceResult> ExecuteAsync(RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        request.Validate();
        var source = _workspace.GetSource(request.Source);
        await _maintenance.EnsureOpenAsync(request.Source, $"restore of '{request.Source}'", cancellationToken);
        using var held = _locks.Hold(request.Source, "restore");
        return await _runs.RecordAsync(
            new RunInfo(RunOperations.Restore, Catalog.JobKinds.Restore, request.Source),
            () => _handlers.For(source).RestoreAsync(request.Source, source, request, cancellationToken),
            r => new RunFigures(0, 0, r.Backup),
            cancellationToken);
    }
}
