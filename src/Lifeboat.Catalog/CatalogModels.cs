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

    /// <summary>A WAL file a secondary target did not take (recorded by wal-push; replication catches it up).</summary>
    public const string WalPush = "wal-push";

    public static readonly IReadOnlyList<string> Schedulable = [Full, Incr, Backup, Logical, Files, Stack, Verify, Expire, Replicate, Drill];
}

public static class RunStatus
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
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
