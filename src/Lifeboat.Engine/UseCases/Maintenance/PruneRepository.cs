using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.UseCases.Maintenance;

/// <param name="DryRun">Only report what would be removed.</param>
/// <param name="RepackThreshold">Repack packs with more than this share unused (0–1).</param>
public sealed record PruneRepositoryRequest(bool DryRun = false, double RepackThreshold = 0.2);

/// <summary>
/// `prune`: removes the data no backup needs, under an exclusive lock; deleting data is destructive (approval gate,
/// not for a dry run). Recorded in the run history.
/// </summary>
public sealed class PruneRepository : IUseCase<PruneRepositoryRequest, PruneReport>
{
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly IApprovalGate _gate;
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;

    public PruneRepository(RepositoryOpener opener, Runs runs, IApprovalGate gate, CallContext call, CatalogAccess catalog)
    {
        _opener = opener;
        _runs = runs;
        _gate = gate;
        _call = call;
        _catalog = catalog;
    }

    public async Task<PruneReport> ExecuteAsync(PruneRepositoryRequest request, CancellationToken cancellationToken)
    {
        if (request.RepackThreshold is < 0 or > 1)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«repackThreshold» {request.RepackThreshold} is out of range", "use a share between 0 and 1, for example 0.2");
        }

        if (!request.DryRun)
        {
            await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.Prune, null, "delete the data no backup needs", new Dictionary<string, string?> { ["repackThreshold"] = request.RepackThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture) }), cancellationToken);
        }

        return await _runs.RecordAsync(
            new RunInfo(RunOperations.Prune, Catalog.JobKinds.Prune),
            async () =>
            {
                await using var repository = await _opener.OpenAsync(cancellationToken);
                await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "prune", cancellationToken);
                return await PruneAsync(repository, request, cancellationToken);
            },
            r => new RunFigures(0, 0, null, $"{{\"bytesFreed\":{r.BytesFreed}}}"),
            cancellationToken);
    }

    /// <summary>
    /// Prunes an open repository whose exclusive lock the caller holds (forget --prune). Refused (exit 3) while the
    /// catalog lists a backup whose manifest is missing: the data only that backup needs would be deleted, and
    /// Lifeboat did not forget it (<see cref="CatalogConsistency"/>).
    /// </summary>
    internal async Task<PruneReport> PruneAsync(Repository.Repository repository, PruneRepositoryRequest request, CancellationToken cancellationToken)
    {
        var consistency = await CatalogConsistency.CompareAsync(_catalog, repository, cancellationToken);
        if (consistency.CatalogOnly.Count > 0)
        {
            throw consistency.RefusePrune();
        }

        return await new Pruner(repository).PruneAsync(
            new PruneOptions { DryRun = request.DryRun, RepackThreshold = request.RepackThreshold },
            new Progress<string>(s => _call.Report(new ProgressUpdate("prune", s))),
            cancellationToken);
    }
}
