using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Recovery;

namespace Lifeboat.Engine.Cluster;

/// <summary>
/// The rule that keeps restored copies out of their source's WAL archive (docs/operations/restore.md, "Restored copies
/// do not archive"). A copy has the source's system identifier, so its WAL passes the header check; once promoted, its
/// new timeline's history file and segments would become part of the source's archive (`list` showing a timeline the
/// source never had, a later restore following it with «targetTimeline» latest). The restore writes
/// <c>archive_mode = off</c> into a copy by default; this check is the second line, for a copy whose archiving was
/// turned back on (a hand-edited postgresql.conf, an ALTER SYSTEM) or that kept the settings of an older release.
/// </summary>
public static class CopyArchiving
{
    /// <summary>
    /// Refuses a WAL file from a restored copy (its data directory holds <see cref="RestoredCopy.FileName"/>) restored with
    /// archive mode off, unless that directory is now the source's configured PGDATA (the copy became the production
    /// cluster). Files outside a pg_wal directory are not checked (a manual push of a file kept elsewhere).
    /// </summary>
    public static void EnsureMayArchive(string sourceName, ClusterSourceOptions source, string walPath)
    {
        if (RestoredCopy.DataDirectoryOf(walPath) is not { } pgdata || RestoredCopy.Read(pgdata) is not { } copy || copy.MayArchive)
        {
            return;
        }

        if (source.PgData is { } configured && RestoredCopy.SameDirectory(pgdata, configured))
        {
            return;
        }

        var when = copy.Restored == DateTimeOffset.MinValue ? "" : $" on {copy.Restored.ToUniversalTime():yyyy-MM-dd HH:mm:ss'Z'}";
        throw new LifeboatException(
            ErrorCode.Refused,
            $"WAL file {Path.GetFileName(walPath)} comes from {pgdata}, a restored copy of source '{copy.Source}' (backup {copy.Backup}{when}, archive mode off, see {Path.Combine(pgdata, RestoredCopy.FileName)}); it was not archived into the WAL archive of source '{sourceName}', whose PGDATA is {source.PgData}",
            $"a copy must not archive its new timeline into its source's archive: turn archiving off in the copy (ALTER SYSTEM SET archive_mode = off, then restart it). If this copy is now the production cluster, point the source at it (Sources:{sourceName}:PgData = {pgdata}) and archiving is accepted; to restore a copy that archives on purpose, restore it with «archiveMode» preserve");
    }
}
