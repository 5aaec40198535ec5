using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Source">Only backups of this source.</param>
/// <param name="Kind">Only backups of this kind (files, config, cluster, database, stack).</param>
/// <param name="Since">Only backups that finished at or after this time.</param>
/// <param name="Until">Only backups that finished before this time.</param>
/// <param name="Limit">At most this many per page (1–1000), newest first.</param>
/// <param name="Cursor">The <c>next</c> of the previous page.</param>
public sealed record ListCatalogBackupsRequest(string? Source = null, string? Kind = null, string? Since = null, string? Until = null, int Limit = 100, string? Cursor = null);

/// <summary>A backup as the catalog caches it (no repository key is needed to read it).</summary>
public sealed record CatalogBackupView(string Id, string Source, string Kind, string Type, DateTimeOffset Started, DateTimeOffset Finished, long Bytes, long StoredBytes, long Files, string? Parent, string? StopLsn, bool Damaged)
{
    public static CatalogBackupView From(BackupRecord b) => new(b.Id, b.Source, b.Kind, b.Type, b.Started, b.Finished, b.Bytes, b.StoredBytes, b.Files, b.Parent, b.StopLsn, b.Damaged);
}

/// <summary>
/// The backups as the catalog knows them, filtered and paged newest first: fast, and readable without the
/// repository's key (the server's lists and the dashboard). The repository stays the source of truth:
/// <see cref="ListBackups"/> reads its manifests, and `catalog rebuild` refreshes this cache from them.
/// </summary>
public sealed class ListCatalogBackups : IUseCase<ListCatalogBackupsRequest, Page<CatalogBackupView>>
{
    private readonly CatalogAccess _catalog;

    public ListCatalogBackups(CatalogAccess catalog) => _catalog = catalog;

    public async Task<Page<CatalogBackupView>> ExecuteAsync(ListCatalogBackupsRequest request, CancellationToken cancellationToken)
    {
        var limit = Cursor.Limit(request.Limit);
        var since = request.Since is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.Since, FieldText.Ref("since"));
        var until = request.Until is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.Until, FieldText.Ref("until"));
        (DateTimeOffset Finished, string Id)? after = null;
        if (request.Cursor is { } c)
        {
            var parts = Cursor.Decode(c, 2);
            after = (DateTimeOffset.Parse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), parts[1]);
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var selected = await catalog.BackupsPageAsync(new BackupQuery(request.Source, request.Kind, since, until, after, limit + 1), cancellationToken);
        var page = selected.Take(limit).Select(CatalogBackupView.From).ToList();
        var next = selected.Count > limit ? Cursor.Encode(page[^1].Finished.ToString("O", CultureInfo.InvariantCulture), page[^1].Id) : null;
        return new Page<CatalogBackupView>(page, next);
    }
}
