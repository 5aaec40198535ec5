using System.Globalization;
using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Engine.UseCases.Restores;

/// <summary>
/// What to restore, for every kind of source (each kind takes its own subset and names the fields that do not apply).
/// Field names are the command line's flags and the API's JSON fields. Properties with a default are settable, not
/// init-only: System.Text.Json's source generator sets every init-only property in its object initializer, so a
/// default there would be lost when the field is absent from a request body.
/// </summary>
public sealed record RestoreSourceRequest
{
    public required string Source { get; init; }

    /// <summary>Read from this target (<c>primary</c> or a secondary) only; null: the primary, else the next target that can be read.</summary>
    public string? From { get; init; }

    /// <summary>A backup id; null for the latest backup of the source.</summary>
    public string? Backup { get; init; }

    /// <summary>Where to restore (a directory); null restores a file tree or config set to its original place (with <see cref="Overwrite"/>).</summary>
    public string? To { get; init; }

    /// <summary>Files and config sets: only paths matching these globs.</summary>
    public IReadOnlyList<string> Path { get; set; } = [];

    public bool Overwrite { get; init; }

    // Clusters: the recovery target (at most one) and how recovery goes.
    public string? TargetTime { get; init; }

    public string? TargetLsn { get; init; }

    public string? TargetXid { get; init; }

    public string? TargetName { get; init; }

    /// <summary><c>immediate</c>: stop as soon as the backup is consistent.</summary>
    public string? Target { get; init; }

    /// <summary>latest, current or a timeline number.</summary>
    public string? TargetTimeline { get; init; }

    public bool Delta { get; init; }

    public bool Force { get; init; }

    /// <summary>OID=DIR: restore that tablespace into DIR instead of its original location.</summary>
    public IReadOnlyList<string> TablespaceMap { get; set; } = [];

    /// <summary>Tablespaces not in <see cref="TablespaceMap"/> go to ROOT/OID instead of their original location (drills).</summary>
    [JsonIgnore]
    public string? TablespaceRoot { get; init; }

    /// <summary>promote, pause or shutdown.</summary>
    public string TargetAction { get; set; } = "promote";

    /// <summary>
    /// off: the restored cluster does not archive (archive_mode = off in the copy); preserve: it keeps the source's
    /// archive settings. Null (the default): off when restoring anywhere but the source's own PGDATA, preserve there.
    /// </summary>
    public string? ArchiveMode { get; set; }

    // Restores into a database (database sources, and object-level restores from a cluster's physical backup).
    public string? Database { get; init; }

    public string? Into { get; init; }

    public IReadOnlyList<string> Table { get; set; } = [];

    public bool SchemaOnly { get; init; }

    public bool Clean { get; init; }

    public bool NoOwner { get; init; }

    /// <summary>The server to restore into (default: the source's own connection).</summary>
    public string? Conn { get; init; }

    /// <summary>Where temporary files (dumps, scratch clusters) go (default: the system's temporary directory).</summary>
    public string? Scratch { get; init; }

    /// <summary>The recovery target the fields name (at most one; none: the end of the archive).</summary>
    public RecoveryTarget RecoveryTarget() => Postgres.Recovery.RecoveryTarget.FromOptions(TargetTime, TargetLsn, TargetXid, TargetName, Target);

    /// <summary>What «archiveMode» asks for: true (off), false (preserve), null (the default by destination).</summary>
    public bool? ArchiveOff => ArchiveMode switch { "off" => true, "preserve" => false, _ => null };

    /// <summary>Checks the fields every kind shares the syntax of: the recovery target, the timeline, the archive mode.</summary>
    public void Validate()
    {
        _ = RecoveryTarget();
        if (TargetTimeline is not null && TargetTimeline is not ("latest" or "current") && !uint.TryParse(TargetTimeline, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«targetTimeline» '{TargetTimeline}' is not a timeline", "use latest, current or a timeline number");
        }

        if (ArchiveMode is not (null or "preserve" or "off"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«archiveMode» '{ArchiveMode}' is not an archive mode", "use preserve or off");
        }

        if (TargetAction is not ("promote" or "pause" or "shutdown"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«targetAction» '{TargetAction}' is not a target action", "use promote, pause or shutdown");
        }
    }

    /// <summary>«tablespaceMap» OID=DIR values, with DIR resolved against <paramref name="workingDirectory"/>.</summary>
    public Dictionary<uint, string> TablespaceMapping(string workingDirectory)
    {
        var map = new Dictionary<uint, string>();
        foreach (var value in TablespaceMap)
        {
            var eq = value.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !uint.TryParse(value.AsSpan(0, eq), NumberStyles.None, CultureInfo.InvariantCulture, out var oid) || eq == value.Length - 1)
            {
                throw new LifeboatException(ErrorCode.Usage, $"«tablespaceMap» '{value}' is not OID=DIR", "for example «tablespaceMap» 16390=/srv/pg/ts1-restored");
            }

            map[oid] = System.IO.Path.GetFullPath(value[(eq + 1)..], workingDirectory);
        }

        return map;
    }
}

/// <summary>A finished restore of any kind of source; the kind's record says what was restored.</summary>
[JsonDerivedType(typeof(FilesRestored))]
[JsonDerivedType(typeof(ClusterRestored))]
[JsonDerivedType(typeof(DatabaseRestored))]
public abstract record RestoreSourceResult([property: JsonPropertyOrder(-1)] string Backup, [property: JsonPropertyOrder(-1)] string Source, double Seconds);

/// <summary>A file tree, config set or a dump's files restored into a directory.</summary>
/// <param name="Destination">The directory, or <c>/</c> for a config set put back in its original places.</param>
/// <param name="Kind">The source's kind (files, config, database).</param>
public sealed record FilesRestored(string Backup, string Source, double Seconds, string Kind, string Destination, long Files, long Directories, long Symlinks, long Bytes, bool OwnersRestored)
    : RestoreSourceResult(Backup, Source, Seconds)
{
    /// <summary>FIFOs and device files recreated (counted among <see cref="Files"/> too).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long Specials { get; init; }

    /// <summary>What was not restored and why (a device file when mknod is not permitted), one line each; null when nothing.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }

    public static FilesRestored From(Repository.Format.Manifest manifest, string destination, FilesRestoreResult r, double seconds)
        => new(manifest.Id, manifest.Source, seconds, manifest.Kind, destination, r.Files, r.Directories, r.Symlinks, r.Bytes, r.OwnersRestored)
        {
            Specials = r.Specials,
            Warnings = r.Warnings is { Count: > 0 } w ? w : null,
        };
}

/// <summary>A cluster restored into a data directory, ready to start and recover to <see cref="Target"/>.</summary>
/// <param name="Tablespaces">Tablespace OID → where it was restored.</param>
/// <param name="ArchiveMode">off: archiving is off in the restored cluster; preserve: it archives as the source did.</param>
/// <param name="RestoredCopy">Restored anywhere but the source's own PGDATA: the directory holds the mark wal-push checks.</param>
public sealed record ClusterRestored(
    string Backup,
    string Source,
    double Seconds,
    string Destination,
    string ServerVersion,
    uint Timeline,
    string BackupStopLsn,
    DateTimeOffset BackupStopTime,
    string Target,
    [property: JsonIgnore] RecoveryTargetKind TargetKind,
    long Files,
    long Bytes,
    long BytesWritten,
    IReadOnlyDictionary<string, string> Tablespaces,
    string ArchiveMode,
    bool RestoredCopy,
    IReadOnlyList<TimelineWindowView> Window) : RestoreSourceResult(Backup, Source, Seconds)
{
    public static ClusterRestored From(ClusterRestoreResult c, double seconds) => new(
        c.Backup.Id,
        c.Backup.Source,
        seconds,
        c.Destination,
        c.Info.ServerVersionText,
        c.Info.Timeline,
        c.Info.StopLsn.ToString(),
        c.Info.StopTime,
        c.Target.ToString(),
        c.Target.Kind,
        c.Files.Files,
        c.Files.Bytes,
        c.Files.BytesWritten,
        c.Tablespaces.ToDictionary(t => t.Key.ToString(CultureInfo.InvariantCulture), t => t.Value),
        c.ArchiveOff ? "off" : "preserve",
        c.Copy,
        TimelineWindowView.From(c.Window));
}

/// <summary>A database (or some of its tables) restored into a database of a server.</summary>
/// <param name="Created">The database was created (else restored over with «clean»).</param>
public sealed record DatabaseRestored(string Backup, string Source, double Seconds, string Database, string Server, bool Created, IReadOnlyList<string> Tables, int Entries)
    : RestoreSourceResult(Backup, Source, Seconds)
{
    public static DatabaseRestored From(Repository.Format.Manifest manifest, DatabaseRestoreResult d, double seconds)
        => new(manifest.Id, manifest.Source, seconds, d.Database, d.Server, d.Created, d.Tables, d.Entries);
}

/// <summary>The recoverable span of one timeline: from the earliest backup's consistency point to the last archived WAL.</summary>
/// <param name="Latest">Null: the WAL is incomplete (a segment is missing).</param>
public sealed record TimelineWindowView(uint Timeline, DateTimeOffset Earliest, DateTimeOffset? Latest, string LatestLsn, IReadOnlyList<string> Backups)
{
    public static IReadOnlyList<TimelineWindowView> From(IEnumerable<TimelineWindow> windows)
        => windows.Select(w => new TimelineWindowView(w.Timeline, w.Earliest, w.Latest, w.LatestLsn.ToString(), w.Backups)).ToList();
}
