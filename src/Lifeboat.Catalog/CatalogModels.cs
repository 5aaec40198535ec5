namespace Lifeboat.Catalog;

/// <summary>Job kinds recorded in the run history and used by schedules.</summary>
public static class JobKinds
{
    public const string Full = "full";
    public const string Incr = "incr";
    public const string Backup = "backup";
    public const string Restore = "restore";
    public const string Verify = "verify";
    public const string Expire = "expire";
    public const string Replicate = "replicate";
    public const string Drill = "drill";
    public const string Logical = "logical";
    public const string Files = "files";
    public const string Stack = "stack";
    public const string Forget = "forget";
    public const string Prune = "prune";
    public const string CatalogRebuild = "catalog-rebuild";

    /// <summary>A WAL file a secondary target did not take (recorded by wal-push; replication catches it up).</summary>
    public const string WalPush = "wal-push";

    public static readonly IReadOnlyList<string> Schedulable = [Full, Incr, Backup, Logical, Files, Stack, Verify, Expire, Replicate, Drill];

    /// <summary>The kinds of runs that make backups of a source (health judges their success rate).</summary>
    public static readonly IReadOnlyList<string> Backups = [Full, Incr, Backup, Logical, Files, Stack, Expire, Verify, Replicate];
}

public static class RunStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Nothing was done: the run needs approval first (docs/approvals.md); the request holds it.</summary>
    public const string AwaitingApproval = "awaiting_approval";
}

/// <summary>One job run: what, on which source and target, how it went, and its figures.</summary>
public sealed record RunRecord
{
    public required string Id { get; init; }

    public required string Kind { get; init; }

    public string? Source { get; init; }

    public string? Target { get; init; }

    public required string Status { get; init; }

    public required DateTimeOffset Started { get; init; }

    public DateTimeOffset? Finished { get; init; }

    public long? DurationMs => Finished is { } f ? (long)(f - Started).TotalMilliseconds : null;

    public long BytesRead { get; init; }

    public long BytesStored { get; init; }

    public string? BackupId { get; init; }

    public string? Error { get; init; }

    /// <summary>Free-form JSON (for example a drill's timings).</summary>
    public string? Metadata { get; init; }
}

/// <summary>A backup as the catalog caches it (the repository's manifest is the truth).</summary>
public sealed record BackupRecord
{
    public required string Id { get; init; }

    public required string Source { get; init; }

    public required string Kind { get; init; }

    public required string Type { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required DateTimeOffset Finished { get; init; }

    public long Bytes { get; init; }

    public long StoredBytes { get; init; }

    public long Files { get; init; }

    public string? Parent { get; init; }

    public string? SystemIdentifier { get; init; }

    public long? Timeline { get; init; }

    public string? StartLsn { get; init; }

    public string? StopLsn { get; init; }

    public DateTimeOffset? StopTime { get; init; }

    public bool Damaged { get; init; }
}

/// <summary>An archived WAL file as the catalog caches it.</summary>
public sealed record WalRecord(string Source, string SystemIdentifier, string Name, long Timeline, long Segment, long Size, DateTimeOffset? Archived);

/// <summary>The state of a schedule across restarts.</summary>
public sealed record ScheduleState(string Name, DateTimeOffset? LastRun, string? LastStatus, DateTimeOffset? NextRun, int ConsecutiveFailures);

public static class DrillResults
{
    public const string Passed = "passed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>
/// One drill as the catalog keeps it: the figures <c>lifeboat status</c> needs, and the whole JSON report (the evidence).
/// <see cref="Restorable"/> is true when the restore, the recovery and the integrity checks passed, whatever the objectives.
/// </summary>
public sealed record DrillRecord
{
    public required string Id { get; init; }

    public required string Source { get; init; }

    /// <summary>cluster or files.</summary>
    public required string Kind { get; init; }

    public string? BackupId { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required DateTimeOffset Finished { get; init; }

    /// <summary>passed, failed or cancelled.</summary>
    public required string Result { get; init; }

    public bool Restorable { get; init; }

    /// <summary>What was asked for (the end of the archive, a time, a backup's counted point…).</summary>
    public string? Target { get; init; }

    /// <summary>The point in time the restored copy holds (for clusters: the latest recoverable time or the target).</summary>
    public DateTimeOffset? PointReached { get; init; }

    public string? PointLsn { get; init; }

    public long? RtoMs { get; init; }

    public long? RtoObjectiveMs { get; init; }

    public bool RtoViolated { get; init; }

    public long? RpoMs { get; init; }

    public long? RpoObjectiveMs { get; init; }

    public bool RpoViolated { get; init; }

    public int ChecksPassed { get; init; }

    public int ChecksFailed { get; init; }

    /// <summary>The one-line summary.</summary>
    public required string Summary { get; init; }

    /// <summary>The JSON report.</summary>
    public required string ReportJson { get; init; }

    public string? ReportJsonPath { get; init; }

    public string? ReportHtmlPath { get; init; }
}

/// <summary>
/// An API token as the catalog keeps it: never the token itself, only <see cref="Hash"/> (the SHA-256 of the whole
/// <c>lbt_…</c> string, lowercase hex), by which a presented token is found.
/// </summary>
public sealed record TokenRecord
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    public required string Role { get; init; }

    public required string Tenant { get; init; }

    public required string Hash { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>Who created it (the actor, as <c>kind:name</c>).</summary>
    public string? CreatedBy { get; init; }

    public DateTimeOffset? Expires { get; init; }

    public DateTimeOffset? LastUsed { get; init; }

    public DateTimeOffset? Revoked { get; init; }
}

/// <summary>One entry of the audit trail (append-only): who did what, to what, with which parameters, and how it ended.</summary>
public sealed record AuditRecord
{
    public required string Id { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string Tenant { get; init; }

    /// <summary>cli, token, oidc, scheduler or system.</summary>
    public required string ActorKind { get; init; }

    public required string Actor { get; init; }

    public string? TokenId { get; init; }

    public string? Role { get; init; }

    public string? RemoteAddress { get; init; }

    public required string Action { get; init; }

    public string? Target { get; init; }

    /// <summary>The parameters as a JSON object of strings (secrets already redacted by the caller).</summary>
    public string? Parameters { get; init; }

    public required string Result { get; init; }

    public required int Status { get; init; }

    public required string CorrelationId { get; init; }
}

/// <summary>
/// Which audit entries to read, newest first: of one tenant, in [<see cref="Since"/>, <see cref="Until"/>), of one
/// actor (name) or action, at most <see cref="Limit"/>, and strictly older than <see cref="Before"/> (the last entry
/// of the previous page: its time and id).
/// </summary>
public sealed record AuditQuery(string Tenant, DateTimeOffset? Since = null, DateTimeOffset? Until = null, string? Actor = null, string? Action = null, int Limit = 100, (DateTimeOffset Time, string Id)? Before = null);
