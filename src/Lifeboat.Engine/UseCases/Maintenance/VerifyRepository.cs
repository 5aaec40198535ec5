using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.UseCases.Maintenance;

/// <param name="Backup">Check only this backup.</param>
/// <param name="ReadData">Read every pack: decrypt, decompress and re-hash every chunk.</param>
public sealed record VerifyRepositoryRequest(string? Backup = null, bool ReadData = false);

public sealed record DamageView(string Object, string Problem, IReadOnlyList<string> AffectedBackups);

/// <param name="Healthy">No damage found (otherwise the command exits 3).</param>
/// <param name="WalFiles">Archived WAL files of the clusters among the backups (their continuity is checked).</param>
/// <param name="WalFilesRead">With «readData»: WAL files read and opened (from the start of the oldest backup on).</param>
/// <param name="Notes">Findings that are not damage (stale locks, unreferenced packs).</param>
public sealed record VerifyRepositoryResult(
    string Repository,
    bool Healthy,
    bool ReadData,
    int Backups,
    int IndexObjects,
    int Packs,
    long ChunkReferences,
    int PacksRead,
    long BytesRead,
    int WalFiles,
    int WalFilesRead,
    IReadOnlyList<DamageView> Damage,
    IReadOnlyList<string> AffectedBackups,
    IReadOnlyList<string> Notes)
{
    /// <summary>The damage as an error (exit 3), naming every damaged object and every backup it affects.</summary>
    public DamageException ToException() => new(
        $"verify found {Damage.Count} damaged object(s)",
        Damage.Select(d => d.Object).ToList(),
        AffectedBackups,
        "restore the damaged objects from a replica (`lifeboat replicate`), or forget the affected backups and take a new one; `lifeboat repo rebuild-index` repairs a damaged index");
}

/// <summary>
/// `verify`: checks the repository under a shared lock (structure, and with «readData» every chunk), the WAL archive of
/// every cluster among the backups (no gap; with «readData» every WAL file read and opened), records the run, and
/// notes stale locks. Damage is a result, not an error: the adapters turn it into exit 3 or a failed job.
/// </summary>
public sealed class VerifyRepository : IUseCase<VerifyRepositoryRequest, VerifyRepositoryResult>
{
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly CallContext _call;
    private readonly Events _events;
    private readonly CatalogAccess _catalog;

    public VerifyRepository(RepositoryOpener opener, Runs runs, CallContext call, Events events, CatalogAccess catalog)
    {
        _opener = opener;
        _runs = runs;
        _call = call;
        _events = events;
        _catalog = catalog;
    }

    public async Task<VerifyRepositoryResult> ExecuteAsync(VerifyRepositoryRequest request, CancellationToken cancellationToken)
    {
        var result = await _runs.RecordAsync(
            new RunInfo(RunOperations.Verify, Catalog.JobKinds.Verify),
            () => VerifyAsync(request, cancellationToken),
            r => new RunFigures(r.BytesRead, 0, null, r.Healthy ? null : $"{{\"damaged\":{r.Damage.Count}}}"),
            cancellationToken);
        if (!result.Healthy)
        {
            await _events.PublishAsync(new VerifyDamageFound(result.Repository, result.Damage.Count, result.Damage.Select(d => d.Object).Take(20).ToList(), result.AffectedBackups, result.ReadData), CancellationToken.None);
        }

        return result;
    }

    private async Task<VerifyRepositoryResult> VerifyAsync(VerifyRepositoryRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "verify", cancellationToken);
        var report = await new Verifier(repository).VerifyAsync(
            new VerifyOptions { ReadData = request.ReadData, BackupId = request.Backup },
            new Progress<string>(s => _call.Report(new ProgressUpdate("verify", s))),
            cancellationToken);
        var wal = await VerifyWalAsync(repository, request, cancellationToken);
        var catalogDamage = new List<DamageItem>();
        if (request.Backup is null)
        {
            var consistency = await CatalogConsistency.CompareAsync(_catalog, repository, cancellationToken);
            catalogDamage.AddRange(consistency.CatalogOnly.Select(id => new DamageItem(ObjectNames.Backup(id), CatalogConsistency.MissingManifestProblem, [id])));
            if (consistency.RepositoryOnly.Count > 0)
            {
                report.Notes.Add($"{consistency.RepositoryOnly.Count} backup(s) in the repository are not in the catalog ({string.Join(", ", consistency.RepositoryOnly.Take(10))}{(consistency.RepositoryOnly.Count > 10 ? ", …" : "")}); `lifeboat catalog rebuild` adds them");
            }

            if (consistency.NotChecked is { } why)
            {
                report.Notes.Add($"the catalog was not compared with the repository: {why}");
            }
        }

        var damage = report.Damage.Concat(wal.Damage).Concat(catalogDamage)
            .GroupBy(d => d.Object)
            .Select(g => new DamageView(g.Key, string.Join("; ", g.Select(d => d.Problem).Distinct()), g.SelectMany(d => d.AffectedBackups).Distinct().Order(StringComparer.Ordinal).ToList()))
            .OrderBy(d => d.Object, StringComparer.Ordinal)
            .ToList();
        foreach (var stale in (await RepositoryLock.ListAsync(repository, cancellationToken)).Where(l => l.IsStale))
        {
            report.Notes.Add($"stale {stale.Lock.Describe()} ({stale.StaleReason}); remove it with `lifeboat repo unlock`");
        }

        return new VerifyRepositoryResult(
            repository.DisplayName,
            damage.Count == 0,
            request.ReadData,
            report.Backups,
            report.IndexObjects,
            report.Packs,
            report.Chunks,
            report.PacksRead,
            report.BytesRead + wal.BytesRead,
            wal.Files,
            wal.FilesRead,
            damage,
            damage.SelectMany(d => d.AffectedBackups).Distinct().Order(StringComparer.Ordinal).ToList(),
            report.Notes);
    }

    /// <summary>The WAL archives of the clusters among the backups checked (a damaged manifest was reported already).</summary>
    private async Task<WalVerifyReport> VerifyWalAsync(Repository.Repository repository, VerifyRepositoryRequest request, CancellationToken cancellationToken)
    {
        List<Manifest> manifests;
        if (request.Backup is not null)
        {
            manifests = [await repository.LoadManifestAsync(request.Backup, cancellationToken)];
        }
        else
        {
            manifests = (await repository.LoadAllManifestsAsync(cancellationToken)).Manifests;
        }

        return await WalVerifier.VerifyAsync(repository, manifests, request.ReadData, 2, new Progress<string>(s => _call.Report(new ProgressUpdate("verify", s))), cancellationToken);
    }
}
