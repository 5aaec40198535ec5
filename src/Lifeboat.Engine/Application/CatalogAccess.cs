using Lifeboat.Catalog;
using Lifeboat.Engine.Configuration;
using Lifeboat.Platform;
using Lifeboat.Postgres.Connections;

namespace Lifeboat.Engine.Application;

/// <summary>
/// The catalog of the call's workspace: SQLite next to the configuration file by default, PostgreSQL when
/// Catalog:ConnectionString is set. Opened (and migrated) once per call, on first use.
/// </summary>
public sealed class CatalogAccess
{
    private readonly Workspace _workspace;
    private readonly TimeProvider _time;
    private Task<LifeboatCatalog>? _opened;

    public CatalogAccess(Workspace workspace, TimeProvider time)
    {
        _workspace = workspace;
        _time = time;
    }

    /// <summary>For a long-lived process (the server), which opens the catalog for every request: pool its SQLite connections.</summary>
    public static void PoolConnections() => LifeboatCatalog.PoolSqliteConnections = true;

    public Task<LifeboatCatalog> OpenAsync(CancellationToken cancellationToken)
    {
        // A failed open is not cached: the next caller tries again (the catalog is a convenience, it may come back).
        if (_opened is { IsFaulted: false, IsCanceled: false } opened)
        {
            return opened;
        }

        _opened = ScopedAsync(cancellationToken);
        return _opened;
    }

    /// <summary>The catalog scoped to the workspace's tenant: every query the call makes sees that tenant's rows only.</summary>
    private async Task<LifeboatCatalog> ScopedAsync(CancellationToken cancellationToken)
    {
        var options = _workspace.CatalogOptions;
        var catalog = options.ConnectionString is { } cs
            ? await LifeboatCatalog.OpenPostgresAsync(PgConnection.Resolve(cs, _workspace.Environment, "Catalog:ConnectionString").ToNpgsql().ConnectionString, _time, cancellationToken)
            : await OpenSqliteAsync(_workspace.CatalogPath, cancellationToken);
        return catalog.ForTenant(_workspace.Name);
    }

    private Task<LifeboatCatalog> OpenSqliteAsync(string path, CancellationToken cancellationToken)
    {
        // Root making the catalog next to a configuration another user owns (/etc/lifeboat, the PostgreSQL OS user's,
        // for `lifeboat serve`): that user must open it. SQLite gives -wal and -shm the database file's owner.
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (Unix.IsRoot && Directory.Exists(directory) && CatalogFile.Create(path) && ConfigFile.OwnedByAnother(directory) is { } owner)
        {
            Unix.Lchown(path, owner.Uid, owner.Gid);
        }

        return LifeboatCatalog.OpenSqliteAsync(path, _time, cancellationToken);
    }
}
