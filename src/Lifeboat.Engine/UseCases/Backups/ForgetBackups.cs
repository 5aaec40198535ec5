using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Backup">The backups to delete.</param>
/// <param name="Prune">Prune afterwards, to free the space.</param>
public sealed record ForgetBackupsRequest(IReadOnlyList<string> Backup, bool Prune = false);

/// <param name="Stacks">Stack records deleted because a member backup is gone (they could not be restored).</param>
public sealed record ForgetBackupsResult(IReadOnlyList<string> Forgotten, IReadOnlyList<string> Stacks, PruneReport? Prune);

/// <summary>
/// `forget`: deletes backups (their data is freed by prune; other backups are never affected). Pinned backups are
/// refused; deleting is destructive (approval gate); the run is recorded; stack records naming a deleted backup go too.
/// </summary>
public sealed class ForgetBackups : IUseCase<ForgetBackupsRequest, ForgetBackupsResult>
{
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly IApprovalGate _gate;
    private readonly CatalogCache _cache;
    private readonly PruneRepository _prune;
    private readonly MaintenanceGate _maintenance;

    public ForgetBackups(RepositoryOpener opener, Runs runs, IApprovalGate gate, CatalogCache cache, PruneRepository prune, MaintenanceGate maintenance)
    {
        _maintenance = maintenance;
        _opener = opener;
        _runs = runs;
        _gate = gate;
        _cache = cache;
        _prune = prune;
    }

    public async Task<ForgetBackupsResult> ExecuteAsync(ForgetBackupsRequest request, CancellationToken cancellationToken)
    {
        if (request.Backup.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Usage, "forget needs at least one «backup» id", "`lifeboat list` shows the backups");
        }

        await using var repository = await _opener.OpenAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "forget", cancellationToken);
        var pinned = await repository.PinnedAsync(cancellationToken);
        string? source = null;
        foreach (var id in request.Backup)
        {
            var of = (await repository.LoadManifestAsync(id, cancellationToken)).Source; // exists and is a backup id
            source ??= of;
            await _maintenance.EnsureOpenAsync(of, $"forget of backup {id} of '{of}'", cancellationToken);
            if (pinned.Contains(id))
            {
                throw new LifeboatException(ErrorCode.Refused, $"backup {id} is pinned", $"unpin it first with `lifeboat unpin {id}` if it really must go");
            }
        }

        await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.Forget, source, $"delete backup(s) {string.Join(", ", request.Backup)}" + (request.Prune ? " and prune" : ""), new Dictionary<string, string?> { ["backup"] = string.Join(",", request.Backup), ["prune"] = request.Prune.ToString() }), cancellationToken);
        return await _runs.RecordAsync(
            new RunInfo(RunOperations.Forget, Catalog.JobKinds.Forget, source),
            async () =>
            {
                // Out of the catalog first, then out of the repository: a backup the catalog lists without a manifest
                // is one Lifeboat did not forget (damage; prune keeps its data), so a crash in between must not leave one.
                await _cache.RemoveAsync(request.Backup, cancellationToken);
                foreach (var id in request.Backup)
                {
                    await repository.DeleteManifestAsync(id, cancellationToken);
                }

                var stacks = await StackRecords.ForgetBrokenAsync(repository, request.Backup.ToHashSet(StringComparer.Ordinal), cancellationToken);
                var pruned = request.Prune ? await _prune.PruneAsync(repository, new PruneRepositoryRequest(), cancellationToken) : null;
                return new ForgetBackupsResult(request.Backup, stacks, pruned);
            },
            r => new RunFigures(0, 0, null, $"{{\"forgotten\":{r.Forgotten.Count}}}"),
            cancellationToken);
    }
}
