using System.Text.Json.Serialization;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Maintenance;

namespace Lifeboat.Engine.UseCases.Maintenance;

public sealed record RebuildCatalogRequest;

public sealed record BackupMissingChunks(string Backup, long MissingChunks);

/// <param name="Catalog">Where the catalog is.</param>
/// <param name="Repository">The repository it was rebuilt from (for people; not in the JSON document).</param>
/// <param name="UnreferencedPacks">Packs no index or backup uses (prune removes them).</param>
public sealed record RebuildCatalogResult(string Catalog, [property: JsonIgnore] string Repository, int Backups, int WalFiles, int DamagedManifests, IReadOnlyList<string> UnreferencedPacks, IReadOnlyList<BackupMissingChunks> ManifestsWithMissingChunks, double Seconds);

/// <summary>`catalog rebuild`: the catalog's view of backups and WAL rebuilt from the repository (the source of truth), with its orphans.</summary>
public sealed class RebuildCatalog : IUseCase<RebuildCatalogRequest, RebuildCatalogResult>
{
    private readonly RepositoryOpener _opener;
    private readonly CatalogAccess _catalog;
    private readonly CallContext _call;

    public RebuildCatalog(RepositoryOpener opener, CatalogAccess catalog, CallContext call)
    {
        _opener = opener;
        _catalog = catalog;
        _call = call;
    }

    public async Task<RebuildCatalogResult> ExecuteAsync(RebuildCatalogRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var report = await new CatalogRebuilder(repository, catalog).RebuildAsync(new Progress<string>(s => _call.Report(new ProgressUpdate("catalog rebuild", s))), cancellationToken);
        return new RebuildCatalogResult(
            catalog.Display,
            repository.DisplayName,
            report.Backups,
            report.WalFiles,
            report.DamagedManifests,
            report.UnreferencedPacks,
            report.ManifestsWithMissingChunks.Select(m => new BackupMissingChunks(m.BackupId, m.MissingChunks)).ToList(),
            Math.Round(report.Elapsed.TotalSeconds, 3));
    }
}
