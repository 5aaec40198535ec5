using System.Text.Json.Serialization;
using Lifeboat.Catalog;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// A drill's report as a document (format <c>lifeboat-drill-report</c>, version 1; docs/drills.md): printed by
/// <c>drill --json</c>, written next to the HTML page, kept in the catalog and returned by the API.
/// </summary>
public sealed record DrillDocument(
    string Format,
    int Version,
    string Id,
    string Source,
    string Kind,
    string Result,
    bool Restorable,
    int ExitCode,
    string Summary,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    DrillHost Host,
    DrillVersions Versions,
    DrillRepository Repository,
    DrillBackup? Backup,
    DrillTarget Target,
    DrillPoint PointReached,
    DrillScratch Scratch,
    DrillTimings Timings,
    DrillRto Rto,
    DrillRpo Rpo,
    IReadOnlyList<DrillCheckView> Checks,
    DrillRowCounts RowCounts,
    DrillDamage? Damage,
    IReadOnlyList<string> Notes,
    DrillReportFiles Reports)
{
    [JsonIgnore]
    public bool Passed => Result == DrillResults.Passed;

    [JsonIgnore]
    public bool Cancelled => Result == DrillResults.Cancelled;
}

public sealed record DrillHost(string Name, string Os, string User);

public sealed record DrillVersions(string Lifeboat, string? Postgresql, string? BackupServer);

public sealed record DrillRepository(string? Url, string? Id);

/// <summary>The backup restored. The cluster fields are set for a cluster backup, <see cref="Paths"/> for a file tree.</summary>
public sealed record DrillBackup(
    string Id,
    string Type,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    string? Host,
    long Bytes,
    long StoredBytes,
    long Files,
    IReadOnlyList<string>? Paths = null,
    string? SystemIdentifier = null,
    string? ServerVersion = null,
    uint? Timeline = null,
    string? StartLsn = null,
    string? StopLsn = null,
    DateTimeOffset? StopTime = null,
    DrillBackupRowCounts? RowCounts = null);

/// <summary>The row counts a cluster backup recorded: in which database, at which point, how many tables.</summary>
public sealed record DrillBackupRowCounts(string? Database, string? Lsn, DateTimeOffset? Time, int Tables, string? Error);

public sealed record DrillTarget(string Requested, string? Description);

public sealed record DrillPoint(DateTimeOffset? Time, string? Lsn, uint? Timeline);

public sealed record DrillScratch(string? Directory, int? Port, string? Priority);

public sealed record DrillTimings(double? RestoreSeconds, double? RecoverySeconds, double? ChecksSeconds, double? TotalSeconds);

public sealed record DrillRto(double? Seconds, double? ObjectiveSeconds, bool Violated, string Basis);

public sealed record DrillRpo(double? Seconds, double? ObjectiveSeconds, bool Judged, bool Violated, string? Basis);

public sealed record DrillCheckView(string Name, DrillCheckStatus Status, string Detail, double? Seconds, DrillCheckData? Data);

public sealed record DrillRowCounts(bool Exact, IReadOnlyList<DrillRowCount> Tables);

public sealed record DrillRowCount(string Schema, string Table, long Recorded, long? Restored, bool Match);

public sealed record DrillDamage(IReadOnlyList<string> Objects, IReadOnlyList<string> AffectedBackups);

public sealed record DrillReportFiles(string? Html, string? Json);
