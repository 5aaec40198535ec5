using System.Globalization;
using System.Text;
using Lifeboat.Platform;

namespace Lifeboat.Postgres.Recovery;

/// <summary>
/// The mark a restore leaves in a data directory that is not its source's own PGDATA: the file
/// <c>PGDATA/lifeboat_restored_copy</c>, lines of <c>key: value</c> (like backup_label) naming the source, its system
/// identifier, the backup, when and where it was restored, and the archive mode asked for (<c>off</c> or
/// <c>preserve</c>). A restored copy has its source's system identifier, so WAL headers cannot tell it from the
/// source: this file can. <c>wal-push</c> reads it from the data directory the WAL file is in (archive_command runs in
/// PGDATA and passes <c>pg_wal/FILE</c>) and refuses every file of a copy whose archive mode is <c>off</c> unless that
/// directory has become the source's configured PGDATA. PostgreSQL ignores the file; cluster backups leave it out
/// (<see cref="Layout.ClusterLayout"/>), so it never travels into another restore.
/// </summary>
public sealed record RestoredCopy(string Source, ulong SystemIdentifier, string Backup, DateTimeOffset Restored, string DataDirectory, string ArchiveMode)
{
    public const string FileName = "lifeboat_restored_copy";

    /// <summary>The copy may archive into its source's archive (restored with archive mode preserve).</summary>
    public bool MayArchive => ArchiveMode == "preserve";

    /// <summary>Writes the mark into <paramref name="pgdata"/> (replacing an earlier one), readable by the directory's owner.</summary>
    public void Write(string pgdata)
    {
        var text = new StringBuilder()
            .Append("# Written by lifeboat restore: this data directory is a restored copy of a cluster source.\n")
            .Append("# lifeboat wal-push refuses its WAL while 'archive mode' is off (docs/operations/restore.md).\n")
            .Append("source: ").Append(Source).Append('\n')
            .Append("system identifier: ").Append(SystemIdentifier.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("backup: ").Append(Backup).Append('\n')
            .Append("restored at: ").Append(Restored.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append('\n')
            .Append("data directory: ").Append(DataDirectory).Append('\n')
            .Append("archive mode: ").Append(ArchiveMode).Append('\n')
            .ToString();
        var path = Path.Combine(pgdata, FileName);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (Unix.IsRoot && Unix.Lstat(pgdata) is { } owner)
        {
            Unix.Lchown(path, owner.Uid, owner.Gid);
        }
    }

    /// <summary>Removes the mark (a restore into the source's own PGDATA: that directory is the source again).</summary>
    public static void Remove(string pgdata) => File.Delete(Path.Combine(pgdata, FileName));

    /// <summary>
    /// The mark of <paramref name="pgdata"/>; null when there is none. A mark that cannot be read or parsed still marks a
    /// copy: it reads as archive mode off (refusing is the safe side), with what could be read.
    /// </summary>
    public static RestoredCopy? Read(string pgdata)
    {
        var path = Path.Combine(pgdata, FileName);
        string[] lines;
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new RestoredCopy("?", 0, "?", DateTimeOffset.MinValue, pgdata, "off");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (!line.StartsWith('#') && colon > 0)
            {
                values[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        string Get(string key) => values.TryGetValue(key, out var v) ? v : "?";
        _ = ulong.TryParse(Get("system identifier"), NumberStyles.None, CultureInfo.InvariantCulture, out var sysid);
        _ = DateTimeOffset.TryParse(Get("restored at"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var restored);
        return new RestoredCopy(Get("source"), sysid, Get("backup"), restored, Get("data directory"), Get("archive mode") == "preserve" ? "preserve" : "off");
    }

    /// <summary>
    /// The data directory a WAL file being archived lives in: archive_command's %p is <c>pg_wal/FILE</c>, relative to
    /// PGDATA (PostgreSQL runs it there). Null when the file is not in a directory named pg_wal.
    /// </summary>
    public static string? DataDirectoryOf(string walPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(walPath));
        return directory is not null && Path.GetFileName(directory) == "pg_wal" ? Path.GetDirectoryName(directory) : null;
    }

    /// <summary>Whether two paths name the same directory: the same full path, or (both existing) the same inode.</summary>
    public static bool SameDirectory(string a, string b)
    {
        var fa = Path.TrimEndingDirectorySeparator(Path.GetFullPath(a));
        var fb = Path.TrimEndingDirectorySeparator(Path.GetFullPath(b));
        if (fa == fb)
        {
            return true;
        }

        return Stat(fa) is { } sa && Stat(fb) is { } sb && sa.Dev == sb.Dev && sa.Inode == sb.Inode;
    }

    private static FileStat? Stat(string path)
    {
        try
        {
            // Follow a symbolic link to the directory it names (PGDATA is often reached through one).
            var resolved = new DirectoryInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
            return Unix.Lstat(resolved);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
