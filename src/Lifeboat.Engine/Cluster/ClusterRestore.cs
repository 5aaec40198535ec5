using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Platform;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Layout;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Cluster;

public sealed record ClusterRestoreRequest
{
    public required string Destination { get; init; }

    public string? BackupId { get; init; }

    public RecoveryTarget Target { get; init; } = RecoveryTarget.Latest;

    /// <summary>latest, current or a number; null: PostgreSQL's default (latest), or current for an immediate target.</summary>
    public string? TargetTimeline { get; init; }

    /// <summary>Rewrite only what differs in an existing data directory.</summary>
    public bool Delta { get; init; }

    /// <summary>Restore into a non-empty directory, replacing what is there.</summary>
    public bool Force { get; init; }

    /// <summary>Where tablespaces go, by OID; default: their original locations.</summary>
    public IReadOnlyDictionary<uint, string> TablespaceMap { get; init; } = new Dictionary<uint, string>();

    /// <summary>When set, every tablespace not in <see cref="TablespaceMap"/> goes to ROOT/OID (scratch and stack restores).</summary>
    public string? TablespaceRoot { get; init; }

    /// <summary>promote (default), pause or shutdown when the target is reached.</summary>
    public string TargetAction { get; init; } = "promote";

    /// <summary>
    /// Turn archiving off in the restored cluster (a copy that must not archive into the source's WAL). Null: off unless
    /// the destination is the source's own PGDATA (<see cref="ClusterRestore.IsSourceDataDirectory"/>).
    /// </summary>
    public bool? ArchiveOff { get; init; }

    /// <summary>The restore_command to write (lifeboat wal-fetch for this source).</summary>
    public required string RestoreCommand { get; init; }

    public int Workers { get; init; } = Environment.ProcessorCount;
}

/// <param name="ArchiveOff">Archiving was turned off in the restored cluster.</param>
/// <param name="Copy">The destination is not the source's own PGDATA: it holds the mark of a restored copy (<see cref="RestoredCopy"/>).</param>
public sealed record ClusterRestoreResult(Manifest Backup, ClusterBackupInfo Info, string Destination, TreeRestoreResult Files, RecoveryTarget Target, IReadOnlyList<TimelineWindow> Window, IReadOnlyDictionary<uint, string> Tablespaces, bool ArchiveOff, bool Copy);

/// <summary>
/// Restores a physical backup into a data directory and configures point-in-time recovery: picks the base backup for the
/// target, refuses targets outside the recoverable window (printing it), never touches a directory with a running
/// server, writes backup_label, tablespace_map, recovery.signal and the recovery settings. A destination other than the
/// source's own PGDATA is a restored copy: it gets <c>archive_mode = off</c> unless preserve was asked, and the mark
/// <see cref="RestoredCopy"/> that wal-push checks (so a copy whose archiving is turned back on still cannot write its
/// new timeline into the source's archive). Drills and object-level restores go through here with their scratch copies.
/// </summary>
public sealed class ClusterRestore
{
    private readonly Repo _repo;
    private readonly string _sourceName;
    private readonly ClusterSourceOptions _source;

    public ClusterRestore(Repo repository, string sourceName, ClusterSourceOptions source)
    {
        _repo = repository;
        _sourceName = sourceName;
        _source = source;
    }

    /// <summary>Every backup of this source and cluster, oldest first.</summary>
    public static async Task<List<PhysicalBackup>> BackupsAsync(Repo repository, string sourceName, ulong systemIdentifier, CancellationToken cancellationToken)
    {
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        return manifests
            .Where(m => m.Source == sourceName && m.Kind == SourceKinds.Cluster)
            .Select(m => (Manifest: m, Info: ClusterBackupInfo.FromDetails(m.Details)))
            .Where(x => x.Info is not null && x.Info.SystemId == systemIdentifier)
            .Select(x => new PhysicalBackup(x.Manifest, x.Info!))
            .OrderBy(b => b.Info.StopTime)
            .ToList();
    }

    public async Task<ClusterRestoreResult> RunAsync(ClusterRestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var destination = Path.GetFullPath(request.Destination);
        CheckDestination(destination, request, "the restore destination");
        var systemId = _source.SystemIdValue();
        var backups = await BackupsAsync(_repo, _sourceName, systemId, cancellationToken);
        if (request.BackupId is { } id && backups.All(b => b.Manifest.Id != id))
        {
            throw await Backups.NotPhysicalAsync(_repo, _sourceName, id, cancellationToken);
        }

        if (backups.Count == 0)
        {
            throw new LifeboatException(ErrorCode.NotFound, $"source '{_sourceName}' has no physical backup in {_repo.DisplayName}", $"run `lifeboat backup --source {_sourceName}` first");
        }

        var archive = new WalArchive(_repo, _sourceName, systemId, backups[^1].Info.WalSegmentSize);
        await CheckTimelineAsync(archive, backups, request.TargetTimeline, cancellationToken);
        var spans = await RecoveryWindow.ComputeAsync(archive, backups, cancellationToken);
        var window = RecoveryWindow.ByTimeline(spans);
        var chosen = Choose(backups, request, spans, window);
        var tablespaces = MapTablespaces(chosen, request);
        foreach (var (oid, location) in tablespaces)
        {
            CheckDestination(location, request, $"the location of tablespace {oid}");
        }

        var index = await _repo.LoadIndexAsync(cancellationToken);
        var pgdataPrefix = ClusterLayout.DataPrefix + "/";
        var tsPrefix = ClusterLayout.TablespacePrefix + "/";
        var files = await new TreeRestorer(_repo, index).RunAsync(
            chosen.Manifest,
            new TreeRestoreOptions
            {
                Map = entry =>
                {
                    if (entry.Path == ClusterLayout.DataPrefix)
                    {
                        return destination;
                    }

                    if (entry.Path.StartsWith(pgdataPrefix, StringComparison.Ordinal))
                    {
                        return Path.Combine(destination, entry.Path[pgdataPrefix.Length..]);
                    }

                    if (entry.Path.StartsWith(tsPrefix, StringComparison.Ordinal))
                    {
                        var rest = entry.Path[tsPrefix.Length..];
                        var slash = rest.IndexOf('/');
                        var oid = uint.Parse(slash < 0 ? rest : rest[..slash], CultureInfo.InvariantCulture);
                        return slash < 0 ? tablespaces[oid] : Path.Combine(tablespaces[oid], rest[(slash + 1)..]);
                    }

                    return null; // the virtual root and the tablespaces directory
                },
                LinkTarget = entry =>
                {
                    // pg_tblspc/<oid> points at the (possibly new) tablespace location.
                    var name = entry.Path[(entry.Path.LastIndexOf('/') + 1)..];
                    return entry.Path.StartsWith(pgdataPrefix + "pg_tblspc/", StringComparison.Ordinal) && uint.TryParse(name, CultureInfo.InvariantCulture, out var oid) && tablespaces.TryGetValue(oid, out var location)
                        ? location
                        : entry.Target ?? "";
                },
                Delta = request.Delta,
                Overwrite = request.Force,
                Workers = request.Workers,
            },
            progress,
            cancellationToken);

        if (request.Delta || request.Force)
        {
            RemoveExtraneous(destination, files.RestoredPaths);
            foreach (var location in tablespaces.Values)
            {
                RemoveExtraneous(location, files.RestoredPaths);
            }
        }

        // A prefetch spool left in pg_wal by an earlier recovery of this directory is never served to this one.
        UseCases.Wal.WalSpool.RemoveAll(destination);
        var copy = !IsSourceDataDirectory(destination, _source);
        var archiveOff = request.ArchiveOff ?? copy;
        WriteRecoveryFiles(destination, chosen, tablespaces, request, archiveOff);
        if (copy)
        {
            new RestoredCopy(_sourceName, systemId, chosen.Manifest.Id, _repo.Time.GetUtcNow(), destination, archiveOff ? "off" : "preserve").Write(destination);
        }
        else
        {
            RestoredCopy.Remove(destination);
        }

        return new ClusterRestoreResult(chosen.Manifest, chosen.Info, destination, files, request.Target, window, tablespaces, archiveOff, copy);
    }

    /// <summary>Whether <paramref name="destination"/> is the source's own data directory (Sources:NAME:PgData).</summary>
    public static bool IsSourceDataDirectory(string destination, ClusterSourceOptions source)
        => source.PgData is { } pgdata && RestoredCopy.SameDirectory(destination, pgdata);

    /// <summary>A directory with a running server is always refused; a non-empty one needs --delta or --force.</summary>
    private static void CheckDestination(string path, ClusterRestoreRequest request, string what)
    {
        var pidFile = Path.Combine(path, "postmaster.pid");
        if (File.Exists(pidFile) && IsRunning(pidFile))
        {
            throw new LifeboatException(ErrorCode.Refused, $"{what} {path} belongs to a running PostgreSQL server (see {pidFile}); a restore never writes into a running cluster", "stop the server first (pg_ctl -D DIR stop), or restore into a new directory");
        }

        var stat = Unix.Lstat(path);
        if (stat is null)
        {
            return;
        }

        if (stat.Value.Kind != FileKind.Directory)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} {path} exists and is not a directory", "choose a new directory");
        }

        if (!request.Delta && !request.Force && Directory.EnumerateFileSystemEntries(path).Any())
        {
            throw new LifeboatException(ErrorCode.Refused, $"{what} {path} is not empty", "restore into a new or empty directory, or pass «delta» to rewrite only what differs, or «force» to replace its contents");
        }
    }

    private static bool IsRunning(string pidFile)
    {
        try
        {
            var first = File.ReadLines(pidFile).FirstOrDefault();
            if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return false;
            }

            return Directory.Exists($"/proc/{pid}");
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The backup to restore: the one given, or the latest whose stop point is before the target.</summary>
    private PhysicalBackup Choose(List<PhysicalBackup> backups, ClusterRestoreRequest request, List<RecoverableSpan> spans, List<TimelineWindow> window)
    {
        var target = request.Target;
        PhysicalBackup? chosen;
        if (request.BackupId is not null)
        {
            chosen = backups.FirstOrDefault(b => b.Manifest.Id == request.BackupId)
                ?? throw new LifeboatException(ErrorCode.InvalidInput, $"backup {request.BackupId} is not a physical backup of source '{_sourceName}'", $"`lifeboat list --source {_sourceName}` shows its backups");
            if (target.Time is { } t && chosen.Info.StopTime >= t)
            {
                throw OutsideWindow($"backup {chosen.Manifest.Id} ended at {Format(chosen.Info.StopTime)}, after the target time {Format(t)}", window);
            }

            if (target.Lsn is { } l && chosen.Info.Stop > l)
            {
                throw OutsideWindow($"backup {chosen.Manifest.Id} ended at LSN {chosen.Info.Stop}, after the target LSN {l}", window);
            }
        }
        else if (target.Time is { } time)
        {
            chosen = backups.LastOrDefault(b => b.Info.StopTime < time)
                ?? throw OutsideWindow($"the target time {Format(time)} is before the earliest recoverable point ({Format(backups[0].Info.StopTime)}, the end of backup {backups[0].Manifest.Id})", window);
        }
        else if (target.Lsn is { } lsn)
        {
            chosen = backups.LastOrDefault(b => b.Info.Stop <= lsn)
                ?? throw OutsideWindow($"the target LSN {lsn} is before the earliest recoverable point (LSN {backups[0].Info.Stop}, the end of backup {backups[0].Manifest.Id})", window);
        }
        else if (target.Kind == RecoveryTargetKind.Xid)
        {
            // The transaction must commit after the backup is consistent: take the latest backup that stopped before
            // the transaction id was assigned.
            var xid = long.Parse(target.Value!, CultureInfo.InvariantCulture);
            chosen = backups.LastOrDefault(b => b.Info.StopNextXid > 0 && b.Info.StopNextXid <= xid) ?? backups[0];
        }
        else if (target.Kind == RecoveryTargetKind.Name)
        {
            // Where a restore point lies is only known by reading the WAL: replay from the earliest backup, which reaches
            // every restore point created after it (pass --backup to start from a later one).
            chosen = backups[0];
        }
        else
        {
            chosen = backups[^1];
        }

        // The archive must reach the target without a gap.
        var reach = spans.Where(s => s.BackupId == chosen.Manifest.Id).ToList();
        if (reach.All(s => s.LatestTime is null))
        {
            var missing = reach.Select(s => s.MissingSegment).FirstOrDefault(m => m is not null) ?? chosen.Info.StartWal;
            throw new LifeboatException(ErrorCode.Damage, $"backup {chosen.Manifest.Id} cannot be restored: WAL segment {missing}, which it needs to become consistent, is not in the archive", "check archiving (`lifeboat check`); a backup taken while archiving works can be restored");
        }

        // A time target is reached only by replaying a commit or abort later than it (an inclusive target: later than or
        // at it when exclusive); past the last one in the archived WAL, PostgreSQL ends recovery without reaching it.
        if (target.Time is { } tt && reach.Max(s => s.LatestTime) is { } latest && (target.Inclusive ? tt >= latest : tt > latest))
        {
            throw new LifeboatException(
                ErrorCode.InvalidInput,
                $"the target time {Format(tt)} cannot be reached: the last point recovery can reach is {FormatPrecise(latest)}, the last transaction commit or abort in the archived WAL of source '{_sourceName}' (recovery stops at a target only on a later commit or abort); nothing was written",
                $"choose a time before {FormatPrecise(latest)} (`lifeboat list --source {_sourceName}` shows the recoverable window), or leave the target out to recover to the end of the archived WAL");
        }

        if (target.Lsn is { } tl && reach.Max(s => s.LatestLsn) is var latestLsn && tl > latestLsn)
        {
            throw OutsideWindow($"the target LSN {tl} is beyond the last archived WAL (up to {latestLsn})", window);
        }

        return chosen;
    }

    /// <summary>
    /// A numbered «targetTimeline» must be a timeline the backups or the archive have (a backup's, or one with archived
    /// WAL or a history file): PostgreSQL would otherwise fail at startup, after the restore wrote everything.
    /// </summary>
    private async Task CheckTimelineAsync(WalArchive archive, List<PhysicalBackup> backups, string? targetTimeline, CancellationToken cancellationToken)
    {
        if (targetTimeline is null || !uint.TryParse(targetTimeline, NumberStyles.None, CultureInfo.InvariantCulture, out var wanted))
        {
            return; // latest, current (checked as a word by the request)
        }

        var timelines = backups.Select(b => b.Info.Timeline).Concat((await archive.ListAsync(cancellationToken)).Select(w => w.Wal.Timeline)).Where(t => t > 0).ToHashSet();
        if (!timelines.Contains(wanted))
        {
            var known = string.Join(", ", timelines.Order().Select(t => t.ToString(CultureInfo.InvariantCulture)));
            throw new LifeboatException(
                ErrorCode.InvalidInput,
                $"there is no timeline {wanted} in the backups and archived WAL of source '{_sourceName}' (timelines: {known}); nothing was written",
                $"use «targetTimeline» latest, current or one of {known} (`lifeboat list --source {_sourceName}` shows each timeline's recoverable window)");
        }
    }

    private LifeboatException OutsideWindow(string what, List<TimelineWindow> window)
    {
        var lines = window.Count == 0
            ? "no archived WAL"
            : string.Join("; ", window.Select(w => $"timeline {w.Timeline}: {Format(w.Earliest)} .. {(w.Latest is { } l ? Format(l) : "incomplete (WAL missing)")}"));
        return new LifeboatException(ErrorCode.InvalidInput, $"{what}; source '{_sourceName}' can be recovered to: {lines}", "choose a target inside the recoverable window (`lifeboat list --source " + _sourceName + "` shows it)");
    }

    private static string Format(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string FormatPrecise(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static Dictionary<uint, string> MapTablespaces(PhysicalBackup backup, ClusterRestoreRequest request)
    {
        var result = new Dictionary<uint, string>();
        foreach (var line in (backup.Info.TablespaceMap ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var space = line.IndexOf(' ');
            if (space > 0 && uint.TryParse(line.AsSpan(0, space), CultureInfo.InvariantCulture, out var oid))
            {
                result[oid] = request.TablespaceMap.TryGetValue(oid, out var mapped) ? Path.GetFullPath(mapped)
                    : request.TablespaceRoot is { } root ? Path.Combine(Path.GetFullPath(root), oid.ToString(CultureInfo.InvariantCulture))
                    : UnescapeMapPath(line[(space + 1)..]);
            }
        }

        foreach (var oid in request.TablespaceMap.Keys.Where(o => !result.ContainsKey(o)))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"backup {backup.Manifest.Id} has no tablespace with OID {oid}", "`lifeboat info BACKUP_ID` lists its tablespaces");
        }

        return result;
    }

    private static string UnescapeMapPath(string path) => path.Replace("\\\n", "\n", StringComparison.Ordinal).Replace("\\\r", "\r", StringComparison.Ordinal).TrimEnd('\r');

    private static string EscapeMapPath(string path) => path.Replace("\n", "\\\n", StringComparison.Ordinal).Replace("\r", "\\\r", StringComparison.Ordinal);

    /// <summary>In delta and force restores, removes what the backup does not have.</summary>
    private static void RemoveExtraneous(string root, IReadOnlySet<string> restored)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0 }))
        {
            if (restored.Contains(entry))
            {
                if (Unix.Lstat(entry) is { Kind: FileKind.Directory })
                {
                    RemoveExtraneous(entry, restored);
                }

                continue;
            }

            TreeRestorer.DeleteEntry(entry);
        }
    }

    private void WriteRecoveryFiles(string pgdata, PhysicalBackup backup, Dictionary<uint, string> tablespaces, ClusterRestoreRequest request, bool archiveOff)
    {
        File.WriteAllText(Path.Combine(pgdata, "backup_label"), backup.Info.BackupLabel);
        if (tablespaces.Count > 0)
        {
            var map = new StringBuilder();
            foreach (var (oid, location) in tablespaces.OrderBy(t => t.Key))
            {
                map.Append(oid.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(EscapeMapPath(location)).Append('\n');
            }

            File.WriteAllText(Path.Combine(pgdata, "tablespace_map"), map.ToString());
        }

        RecoveryConfig.Write(pgdata, request.RestoreCommand, request.Target, request.TargetTimeline, request.TargetAction, archiveOff, _repo.Time.GetUtcNow());
        if (Unix.IsRoot && Unix.Lstat(pgdata) is { } owner)
        {
            foreach (var name in new[] { "backup_label", "tablespace_map", "recovery.signal", RecoveryConfig.AutoConf })
            {
                var path = Path.Combine(pgdata, name);
                if (File.Exists(path))
                {
                    Unix.Lchown(path, owner.Uid, owner.Gid);
                }
            }
        }

        foreach (var name in new[] { "backup_label", "tablespace_map", "recovery.signal", RecoveryConfig.AutoConf })
        {
            var path = Path.Combine(pgdata, name);
            if (File.Exists(path))
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }
}
