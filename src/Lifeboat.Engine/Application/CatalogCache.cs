using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application;

/// <summary>
/// Keeps the catalog's cache of the repository's backups up to date as backups are made and forgotten (best effort:
/// the repository is the source of truth and `catalog rebuild` restores the cache from it).
/// </summary>
public sealed partial class CatalogCache
{
    private readonly CatalogAccess _catalog;
    private readonly ILogger<CatalogCache> _logger;

    public CatalogCache(CatalogAccess catalog, ILogger<CatalogCache> logger)
    {
        _catalog = catalog;
        _logger = logger;
    }

    public Task AddAsync(Manifest manifest, CancellationToken cancellationToken)
        => TryAsync(async catalog => await catalog.UpsertBackupsAsync([Maintenance.CatalogRebuilder.ToRecord(manifest)], cancellationToken), cancellationToken);

    public Task RemoveAsync(IEnumerable<string> ids, CancellationToken cancellationToken)
        => TryAsync(async catalog =>
        {
            foreach (var id in ids)
            {
                await catalog.DeleteBackupAsync(id, cancellationToken);
            }
        }, cancellationToken);

    private async Task TryAsync(Func<Catalog.LifeboatCatalog, Task> action, CancellationToken cancellationToken)
    {
        try
        {
            await action(await _catalog.OpenAsync(cancellationToken));
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogCacheNotUpdated(_logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "The catalog's cache of backups was not updated: {Error}")]
    private static partial void LogCacheNotUpdated(ILogger logger, string error);
}
