using Lifeboat.Catalog;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Source">Only backups of this source.</param>
public sealed record ListCatalogBackupsRequest(string? Source = null);

/// <summary>A backup as the catalog caches it (no repository key is needed to read it).</summary>
public sealed record CatalogBackupView(string Id, string Source, string Kind, string Type, DateTimeOffset Started, DateTimeOffset Finished, long Bytes, long StoredBytes, long Files, string? Parent, string? StopLsn, bool Damaged)
{
    public static CatalogBackupView From(BackupRecord b) => new(b.Id, b.Source, b.Kind, b.Type, b.Started, b.Finished, b.Bytes, b.StoredBytes, b.Files, b.Parent, b.StopLsn, b.Damaged);
}

public sealed record ListCatalogBackupsResult(IReadOnlyList<CatalogBackupView> Backups);

/// <summary>
/// The backups as the catalog knows them: fast, and readable without the repository's key (the server's lists and
/// the dashboard). The repository stays the source of truth: <see cref="ListBackups"/> reads its manifests, and
/// `catalog rebuild` refreshes this cache from them.
/// </summary>
public sealed class ListCatalogBackups : IUseCase<ListCatalogBackupsRequest, ListCatalogBackupsResult>
{
    private readonly CatalogAccess _catalog;

    public ListCatalogBackups(CatalogAccess catalog) => _catalog = catalog;

    public async Task<ListCatalogBackupsResult> ExecuteAsync(ListCatalogBackupsRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var backups = await catalog.BackupsAsync(request.Source, cancellationToken);
        return new ListCatalogBackupsResult(backups.Select(CatalogBackupView.From).ToList());
    }
}
