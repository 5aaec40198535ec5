using System.Globalization;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Platform;

namespace Lifeboat.Postgres.Layout;

public enum ClusterEntryKind
{
    Directory,
    File,
    Symlink,
}

/// <summary>A tablespace of the cluster: its OID and where its symlink in pg_tblspc points.</summary>
public sealed record Tablespace(uint Oid, string Name, string Location);

/// <summary>
/// One path of a physical backup, with its place in the backup tree: <c>pgdata/…</c> for the data directory and
/// <c>tablespaces/&lt;oid&gt;/…</c> for each tablespace outside it.
/// </summary>
public sealed record ClusterEntry(string TreePath, string FullPath, ClusterEntryKind Kind, FileStat Stat, string? LinkTarget)
{
    /// <summary>A relation file whose pages carry checksums (data, fsm, vm or init fork).</summary>
    public bool IsRelation { get; init; }

    /// <summary>For a relation file: the segment number (the ".N" suffix; 0 without one).</summary>
    public uint Segment { get; init; }
}

/// <summary>
/// Which files a base backup holds (PostgreSQL's basebackup.c and pgBackRest's manifest rules): everything in the data
/// directory and the tablespaces except what PostgreSQL rebuilds or must not find after a restore — WAL (pg_wal is
/// kept empty), temporary files and relations, unlogged relations (only their init fork is kept), the contents of
/// pg_replslot, pg_stat_tmp, pg_dynshmem, pg_notify, pg_serial, pg_snapshots and pg_subtrans, pg_internal.init,
/// postmaster.pid/opts, backup_label, tablespace_map, recovery.signal and standby.signal, and the mark of a restored
/// copy (lifeboat_restored_copy: each restore writes its own).
/// </summary>
public static partial class ClusterLayout
{
    public const string DataPrefix = "pgdata";
    public const string TablespacePrefix = "tablespaces";

    private static readonly HashSet<string> ExcludeContents = new(StringComparer.Ordinal)
    {
        "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans",
    };

    private static readonly HashSet<string> ExcludeRootFiles = new(StringComparer.Ordinal)
    {
        "postmaster.pid", "postmaster.opts", "backup_label", "backup_label.old", "tablespace_map", "tablespace_map.old",
        "backup_manifest", "backup_manifest.tmp", "postgresql.auto.conf.tmp", "current_logfiles.tmp",
        "recovery.signal", "standby.signal", "recovery.conf", "recovery.done",
        Recovery.RestoredCopy.FileName,
    };

    /// <summary>Lists the backup's entries in tree order. Problems with single paths are collected in <paramref name="problems"/>.</summary>
    public static List<ClusterEntry> Walk(string pgdata, IReadOnlyList<Tablespace> tablespaces, List<string> problems)
    {
        var entries = new List<ClusterEntry>();
        var rootStat = Unix.Lstat(pgdata) ?? throw new LifeboatException(ErrorCode.InvalidInput, $"the data directory {pgdata} does not exist", "check «pgdata»");
        entries.Add(new ClusterEntry("", pgdata, ClusterEntryKind.Directory, rootStat with { Mode = 0b111_000_000 }, null));
        entries.Add(new ClusterEntry(DataPrefix, pgdata, ClusterEntryKind.Directory, rootStat, null));
        WalkDirectory(pgdata, DataPrefix, "", entries, problems, tablespaceVersionDir: null);
        if (tablespaces.Count > 0)
        {
            entries.Add(new ClusterEntry(TablespacePrefix, pgdata, ClusterEntryKind.Directory, rootStat with { Mode = 0b111_000_000 }, null));
            foreach (var ts in tablespaces.OrderBy(t => t.Oid.ToString(CultureInfo.InvariantCulture), TreeOrderComparer.Instance))
            {
                var stat = Unix.Lstat(ts.Location);
                if (stat is null)
                {
                    problems.Add($"tablespace {ts.Name} ({ts.Oid}): its location {ts.Location} does not exist");
                    continue;
                }

                var tree = $"{TablespacePrefix}/{ts.Oid}";
                entries.Add(new ClusterEntry(tree, ts.Location, ClusterEntryKind.Directory, stat.Value, null));
                WalkDirectory(ts.Location, tree, "", entries, problems, tablespaceVersionDir: "PG_");
            }
        }

        return entries;
    }

    private static void WalkDirectory(string directory, string treeDirectory, string relative, List<ClusterEntry> entries, List<string> problems, string? tablespaceVersionDir)
    {
        string[] names;
        try
        {
            names = Directory.EnumerateFileSystemEntries(directory).Select(p => Path.GetFileName(p)).ToArray();
        }
        catch (DirectoryNotFoundException)
        {
            return; // dropped during the backup (a database or tablespace)
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            problems.Add($"{treeDirectory}: cannot list the directory ({ex.Message})");
            return;
        }

        Array.Sort(names, TreeOrderComparer.Instance);
        var isDbDir = IsDatabaseDirectory(relative, tablespaceVersionDir is not null);
        HashSet<string>? unlogged = null;
        if (isDbDir)
        {
            unlogged = names.Where(n => n.EndsWith("_init", StringComparison.Ordinal)).Select(n => n[..^5]).ToHashSet(StringComparer.Ordinal);
        }

        foreach (var name in names)
        {
            var rel = relative.Length == 0 ? name : relative + "/" + name;
            var tree = treeDirectory + "/" + name;
            var full = Path.Combine(directory, name);
            if (name.StartsWith("pgsql_tmp", StringComparison.Ordinal))
            {
                continue;
            }

            if (tablespaceVersionDir is null && relative.Length == 0 && ExcludeRootFiles.Contains(name))
            {
                continue;
            }

            FileStat? stat;
            try
            {
                stat = Unix.Lstat(full);
            }
            catch (IOException ex)
            {
                problems.Add($"{tree}: {ex.Message}");
                continue;
            }

            if (stat is null)
            {
                continue; // removed since the directory was listed
            }

            if (isDbDir && stat.Value.Kind == FileKind.Regular)
            {
                if (name.StartsWith("pg_internal.init", StringComparison.Ordinal) || TempRelation().IsMatch(name))
                {
                    continue;
                }

                var m = Relation().Match(name);
                if (m.Success)
                {
                    var fork = m.Groups["fork"].Value;
                    if (fork != "init" && unlogged!.Contains(m.Groups["rel"].Value))
                    {
                        continue; // an unlogged relation: only its init fork is backed up; PostgreSQL resets the rest
                    }

                    var segment = m.Groups["seg"].Success ? uint.Parse(m.Groups["seg"].Value, CultureInfo.InvariantCulture) : 0u;
                    entries.Add(new ClusterEntry(tree, full, ClusterEntryKind.File, stat.Value, null) { IsRelation = true, Segment = segment });
                    continue;
                }
            }

            switch (stat.Value.Kind)
            {
                case FileKind.Regular:
                    entries.Add(new ClusterEntry(tree, full, ClusterEntryKind.File, stat.Value, null));
                    break;
                case FileKind.Directory:
                    entries.Add(new ClusterEntry(tree, full, ClusterEntryKind.Directory, stat.Value, null));
                    if (tablespaceVersionDir is null && relative.Length == 0 && (ExcludeContents.Contains(name) || name == "pg_wal"))
                    {
                        if (name == "pg_wal")
                        {
                            AddArchiveStatus(full, tree, entries);
                        }

                        break;
                    }

                    WalkDirectory(full, tree, rel, entries, problems, tablespaceVersionDir);
                    break;
                case FileKind.Symlink:
                    var target = new FileInfo(full).LinkTarget;
                    if (tablespaceVersionDir is null && relative.Length == 0 && name == "pg_wal")
                    {
                        // pg_wal may live elsewhere (initdb -X): back it up as an empty directory.
                        var resolved = Unix.Lstat(Path.Combine(directory, target ?? "")) ?? stat;
                        entries.Add(new ClusterEntry(tree, full, ClusterEntryKind.Directory, resolved.Value with { Kind = FileKind.Directory, Mode = 0b111_000_000 }, null));
                        AddArchiveStatus(full, tree, entries);
                        break;
                    }

                    entries.Add(new ClusterEntry(tree, full, ClusterEntryKind.Symlink, stat.Value, target));
                    break;
                default:
                    problems.Add($"{tree}: skipped (a socket, FIFO or device file)");
                    break;
            }
        }
    }

    private static void AddArchiveStatus(string walDirectory, string walTree, List<ClusterEntry> entries)
    {
        var statusPath = Path.Combine(walDirectory, "archive_status");
        var stat = Unix.Lstat(statusPath);
        if (stat is { Kind: FileKind.Directory })
        {
            entries.Add(new ClusterEntry(walTree + "/archive_status", statusPath, ClusterEntryKind.Directory, stat.Value, null));
        }
    }

    /// <summary>global, base/&lt;oid&gt;, or (in a tablespace) PG_&lt;ver&gt;_&lt;catversion&gt;/&lt;oid&gt;.</summary>
    private static bool IsDatabaseDirectory(string relative, bool inTablespace)
    {
        if (inTablespace)
        {
            var parts = relative.Split('/');
            return parts.Length == 2 && parts[0].StartsWith("PG_", StringComparison.Ordinal) && parts[1].All(char.IsAsciiDigit);
        }

        return relative == "global" || (relative.StartsWith("base/", StringComparison.Ordinal) && relative.Length > 5 && relative[5..].All(char.IsAsciiDigit));
    }

    [GeneratedRegex(@"^(?<rel>[0-9]+)(?:_(?<fork>fsm|vm|init))?(?:\.(?<seg>[0-9]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Relation();

    [GeneratedRegex(@"^t[0-9]+_[0-9]+(?:_(?:fsm|vm|init))?(?:\.[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TempRelation();

    private sealed class TreeOrderComparer : IComparer<string>
    {
        public static TreeOrderComparer Instance { get; } = new();

        public int Compare(string? x, string? y) => TreeOrder.Instance.Compare(x, y);
    }
}
