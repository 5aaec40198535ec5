namespace Lifeboat.Core;

/// <summary>
/// Stable error codes. Each maps to one of the exit codes of the command-line contract
/// (0 success, 1 the operation failed, 2 bad usage or configuration, 3 verification found damage, 4 the operation needs approval).
/// The numeric values are part of the JSON output and must not be renumbered.
/// </summary>
public enum ErrorCode
{
    /// <summary>The operation failed for a reason outside the user's input (I/O, a peer, a crash).</summary>
    Failed = 100,
    /// <summary>The operation was cancelled (Ctrl-C, a time limit).</summary>
    Cancelled = 101,
    /// <summary>A target (storage) failed in a way that retries did not fix.</summary>
    TargetFailed = 102,
    /// <summary>Another process holds a conflicting repository lock.</summary>
    RepositoryLocked = 103,
    /// <summary>A PostgreSQL server or tool failed.</summary>
    PostgresFailed = 104,
    /// <summary>What was asked for is not there (a backup id, an object).</summary>
    NotFound = 105,
    /// <summary>
    /// The source (or the whole workspace) is in maintenance mode: writes to it wait until it ends. Not the user's
    /// fault and over by itself (a 1xx code, exit 1, HTTP 503 with Retry-After when the end is known).
    /// </summary>
    Maintenance = 106,

    /// <summary>The command line is wrong.</summary>
    Usage = 200,
    /// <summary>The configuration file or a setting is wrong.</summary>
    Config = 201,
    /// <summary>No repository at the given place, or it cannot be read.</summary>
    RepositoryUnavailable = 202,
    /// <summary>No key slot opens with the passphrase or key file given.</summary>
    WrongPassphrase = 203,
    /// <summary>A value given by the user is invalid (a path that does not exist, a bad time).</summary>
    InvalidInput = 204,
    /// <summary>The operation would destroy something and needs an explicit flag.</summary>
    Refused = 205,
    /// <summary>This OS user may not read or write a file or directory the operation needs (the message names both).</summary>
    PermissionDenied = 206,
    /// <summary>
    /// A target has no room for what the operation must write (a full disk, a quota): the operator frees space, then
    /// runs it again. Like a permission, a condition of the environment to fix, not a fault of Lifeboat's.
    /// </summary>
    NoSpace = 207,
    /// <summary>
    /// A backup id (or stack backup id) the user gave names no backup in the repository: bad input (exit 2), whatever the
    /// kind of source; HTTP 404. The message names the id and the command that lists the backups.
    /// </summary>
    NoSuchBackup = 208,
    /// <summary>
    /// The call's tenant is suspended (or being removed): it may read its backups but not change anything (docs/tenants.md);
    /// exit 2, HTTP 423 Locked. WAL archiving and fetching are exempt.
    /// </summary>
    Suspended = 209,
    /// <summary>The operation would take the tenant over one of its quotas (stored bytes, sources): nothing was written; exit 2, HTTP 422 (413 for an upload).</summary>
    QuotaExceeded = 210,

    /// <summary>Verification or a read found damaged or missing data.</summary>
    Damage = 300,

    /// <summary>
    /// The operation needs approval (docs/approvals.md): nothing was done; an approval request holds it, and the message
    /// names the request and how to get it approved.
    /// </summary>
    ApprovalRequired = 400,
}

public static class ErrorCodeExtensions
{
    /// <summary>The process exit code for an error code (CLI.md).</summary>
    public static int ToExitCode(this ErrorCode code) => (int)code / 100;
}
