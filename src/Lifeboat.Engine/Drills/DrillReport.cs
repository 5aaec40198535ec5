using System.Globalization;
using System.Text.Json.Serialization;
using Lifeboat.Catalog;
using Lifeboat.Core;

namespace Lifeboat.Engine.Drills;

public enum DrillCheckStatus
{
    [JsonStringEnumMemberName("passed")]
    Passed,
    [JsonStringEnumMemberName("failed")]
    Failed,
    [JsonStringEnumMemberName("skipped")]
    Skipped,
    /// <summary>Reported, not judged (row counts at a point other than the counted one).</summary>
    [JsonStringEnumMemberName("info")]
    Info,
}

/// <summary>One check of a drill, with its evidence.</summary>
public sealed record DrillCheck(string Name, DrillCheckStatus Status, string Detail, TimeSpan? Elapsed = null, DrillCheckData? Data = null);

/// <summary>The measured evidence of a check, where it has figures: free space, or what a restore wrote.</summary>
public sealed record DrillCheckData(long? NeededBytes = null, long? FreeBytes = null, string? Directory = null, long? Files = null, long? Bytes = null, int? Tablespaces = null);

/// <summary>A row count recorded at backup time next to the one found in the restored cluster.</summary>
public sealed record RowCountComparison(string Schema, string Table, long Recorded, long? Restored)
{
    public bool Match => Restored == Recorded;
}

/// <summary>
/// Everything a drill found: what was restored, from where, to which point, every check with its result, the phase
/// timings, the RTO and RPO against the objectives, the versions and the host. Filled while the drill runs; rendered
/// as the JSON document (<see cref="ToDocument"/>) and the HTML page (<see cref="DrillHtml"/>), and kept in the catalog.
/// </summary>
public sealed class DrillReport
{
    public const string Format = "lifeboat-drill-report";
    public const int FormatVersion = 1;

    private readonly List<DrillCheck> _checks = [];
    private readonly List<string> _notes = [];

    public DrillReport(string id, string source, string kind, DateTimeOffset started)
    {
        Id = id;
        Source = source;
        Kind = kind;
        Started = started;
    }

    public string Id { get; }

    public string Source { get; }

    /// <summary>cluster or files.</summary>
    public string Kind { get; }

    public DateTimeOffset Started { get; }

    public DateTimeOffset Finished { get; set; }

    public string? Repository { get; set; }

    public string? RepositoryId { get; set; }

    /// <summary>The backup restored: id, type, times, sizes and, for a cluster, its WAL positions.</summary>
    public DrillBackup? Backup { get; set; }

    public string? BackupId { get; set; }

    /// <summary>latest, backup, time or random-point.</summary>
    public string Requested { get; set; } = "latest";

    /// <summary>What the restored copy was recovered to, in words.</summary>
    public string? TargetDescription { get; set; }

    public DateTimeOffset? PointReached { get; set; }

    public string? PointLsn { get; set; }

    public uint? Timeline { get; set; }

    public string? ScratchDirectory { get; set; }

    public int? ScratchPort { get; set; }

    public string? Priority { get; set; }

    public string? PostgresVersion { get; set; }

    public string? BackupServerVersion { get; set; }

    public TimeSpan? RestoreTime { get; set; }

    public TimeSpan? RecoveryTime { get; set; }

    public TimeSpan? ChecksTime { get; set; }

    public TimeSpan? RtoObjective { get; set; }

    public TimeSpan? RpoObjective { get; set; }

    /// <summary>Latest recoverable point vs the drill's start.</summary>
    public TimeSpan? Rpo { get; set; }

    /// <summary>Whether the RPO is judged against the objective (only when the drill recovered to the end of the archive).</summary>
    public bool RpoJudged { get; set; }

    public string? RpoBasis { get; set; }

    public List<RowCountComparison> RowCounts { get; } = [];

    /// <summary>Whether the row counts were compared exactly (else reported for information).</summary>
    public bool RowCountsExact { get; set; }

    public IReadOnlyList<string> DamagedObjects { get; set; } = [];

    public IReadOnlyList<string> AffectedBackups { get; set; } = [];

    public bool Cancelled { get; set; }

    public string? HtmlPath { get; set; }

    public string? JsonPath { get; set; }

    public IReadOnlyList<DrillCheck> Checks => _checks;

    public IReadOnlyList<string> Notes => _notes;

    public string Summary { get; set; } = "";

    public void Add(DrillCheck check) => _checks.Add(check);

    public void Note(string note) => _notes.Add(note);

    /// <summary>Restore + recovery + checks: measured only when the copy was restored and recovered.</summary>
    public TimeSpan? Rto => RestoreTime is { } r && RecoveryTime is { } v ? r + v + (ChecksTime ?? TimeSpan.Zero) : null;

    public bool RtoViolated => Rto is { } rto && RtoObjective is { } o && rto > o;

    public bool RpoViolated => RpoJudged && Rpo is { } rpo && RpoObjective is { } o && rpo > o;

    /// <summary>Every check except the objectives passed: the point reached is proven restorable.</summary>
    public bool Restorable => !Cancelled && _checks.Count > 0
        && _checks.Any(c => c.Name == "restore" && c.Status == DrillCheckStatus.Passed)
        && _checks.Where(c => !c.Name.EndsWith(" objective", StringComparison.Ordinal)).All(c => c.Status != DrillCheckStatus.Failed);

    public bool Passed => Restorable && _checks.All(c => c.Status != DrillCheckStatus.Failed);

    public string Result => Cancelled ? DrillResults.Cancelled : Passed ? DrillResults.Passed : DrillResults.Failed;

    /// <summary>0 all checks passed; 3 the repository is damaged; 1 any other failure (CLI.md exit codes).</summary>
    public int ExitCode => Passed ? 0 : DamagedObjects.Count > 0 ? ErrorCode.Damage.ToExitCode() : ErrorCode.Failed.ToExitCode();

    public int FailedChecks => _checks.Count(c => c.Status == DrillCheckStatus.Failed);

    public int PassedChecks => _checks.Count(c => c.Status == DrillCheckStatus.Passed);

    /// <summary>The one-line summary (stdout, the catalog, the report's title).</summary>
    public string BuildSummary()
    {
        var what = BackupId is null ? "" : $"backup {BackupId}";
        string verdict;
        if (Cancelled)
        {
            verdict = "CANCELLED — interrupted; the scratch copy was removed";
        }
        else if (Passed)
        {
            verdict = $"PASSED — {what} restored{(PointReached is { } p ? " and recovered to " + Time(p) : "")}{(TargetDescription is null ? "" : $" ({TargetDescription})")}; {PassedChecks}/{PassedChecks + FailedChecks} checks passed";
        }
        else
        {
            var failed = _checks.Where(c => c.Status == DrillCheckStatus.Failed).ToList();
            verdict = $"FAILED — {failed.Count} check(s) failed: {string.Join("; ", failed.Take(3).Select(c => $"{c.Name}: {FirstLine(c.Detail)}"))}{(failed.Count > 3 ? "; …" : "")}";
        }

        var figures = new List<string>();
        if (Rto is { } rto)
        {
            figures.Add($"RTO {Seconds(rto)}{(RtoObjective is { } o ? $" (objective {Seconds(o)}{(RtoViolated ? ", VIOLATED" : "")})" : "")}");
        }

        if (Rpo is { } rpo)
        {
            figures.Add($"RPO {Seconds(rpo)}{(RpoJudged && RpoObjective is { } o ? $" (objective {Seconds(o)}{(RpoViolated ? ", VIOLATED" : "")})" : "")}");
        }

        var report = HtmlPath is null ? "" : $"; report: {HtmlPath}";
        return $"drill {Id} of '{Source}': {verdict}{(figures.Count > 0 ? "; " + string.Join(", ", figures) : "")}{report}";
    }

    /// <summary>The report as data: what <c>drill --json</c> prints, the JSON file written next to the HTML page, and what the catalog keeps.</summary>
    public DrillDocument ToDocument() => new(
        Format, FormatVersion, Id, Source, Kind, Result, Restorable, ExitCode, Summary, Started, Finished,
        new DrillHost(Environment.MachineName, System.Runtime.InteropServices.RuntimeInformation.OSDescription, Environment.UserName),
        new DrillVersions(LifeboatVersion, PostgresVersion, BackupServerVersion),
        new DrillRepository(Repository, RepositoryId),
        Backup,
        new DrillTarget(Requested, TargetDescription),
        new DrillPoint(PointReached, PointLsn, Timeline),
        new DrillScratch(ScratchDirectory, ScratchPort, Priority),
        new DrillTimings(Secs(RestoreTime), Secs(RecoveryTime), Secs(ChecksTime), Secs(Finished - Started)),
        new DrillRto(Secs(Rto), Secs(RtoObjective), RtoViolated, "restore + recovery + checks"),
        new DrillRpo(Secs(Rpo), Secs(RpoObjective), RpoJudged, RpoViolated, RpoBasis),
        [.. _checks.Select(c => new DrillCheckView(c.Name, c.Status, c.Detail, Secs(c.Elapsed), c.Data))],
        new DrillRowCounts(RowCountsExact, [.. RowCounts.Select(r => new DrillRowCount(r.Schema, r.Table, r.Recorded, r.Restored, r.Match))]),
        DamagedObjects.Count == 0 ? null : new DrillDamage(DamagedObjects, AffectedBackups),
        [.. _notes],
        new DrillReportFiles(HtmlPath, JsonPath));

    public DrillRecord ToRecord(string json) => new()
    {
        Id = Id,
        Source = Source,
        Kind = Kind,
        BackupId = BackupId,
        Started = Started,
        Finished = Finished,
        Result = Result,
        Restorable = Restorable,
        Target = TargetDescription,
        PointReached = Restorable ? PointReached : null,
        PointLsn = Restorable ? PointLsn : null,
        RtoMs = Ms(Rto),
        RtoObjectiveMs = Ms(RtoObjective),
        RtoViolated = RtoViolated,
        RpoMs = Ms(Rpo),
        RpoObjectiveMs = Ms(RpoObjective),
        RpoViolated = RpoViolated,
        ChecksPassed = PassedChecks,
        ChecksFailed = FailedChecks,
        Summary = Summary,
        ReportJson = json,
        ReportJsonPath = JsonPath,
        ReportHtmlPath = HtmlPath,
    };

    /// <summary>This program's version (informational version: release and commit).</summary>
    public static string LifeboatVersion { get; } =
        typeof(DrillReport).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan t)
        => t.TotalSeconds < 1 ? $"{t.TotalMilliseconds.ToString(t.TotalMilliseconds < 10 ? "0.###" : "0", CultureInfo.InvariantCulture)} ms"
            : t.TotalMinutes < 2 ? $"{t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
            : t.TotalHours < 2 ? $"{t.TotalMinutes.ToString("0.0", CultureInfo.InvariantCulture)} min"
            : $"{t.TotalHours.ToString("0.0", CultureInfo.InvariantCulture)} h";

    private static string FirstLine(string s) => s.Split('\n')[0];

    private static double? Secs(TimeSpan? t) => t is { } v ? Math.Round(v.TotalSeconds, 3) : null;

    private static long? Ms(TimeSpan? t) => t is { } v ? (long)v.TotalMilliseconds : null;
}
