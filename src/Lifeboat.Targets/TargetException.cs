using Lifeboat.Core;

namespace Lifeboat.Targets;

public enum TargetErrorKind
{
    /// <summary>The object (or the target's root) does not exist. Permanent.</summary>
    NotFound,
    /// <summary><see cref="SaveMode.Create"/> found an existing object. Permanent.</summary>
    AlreadyExists,
    /// <summary>Credentials were refused or are missing. Permanent.</summary>
    AuthenticationFailed,
    /// <summary>The credentials work but lack a permission. Permanent.</summary>
    AccessDenied,
    /// <summary>The target is full or over quota. Permanent.</summary>
    NoSpace,
    /// <summary>The target could not be reached or answered with a server error. Transient.</summary>
    Unavailable,
    /// <summary>The target's configuration is wrong (bad URL, missing bucket, host key mismatch). Permanent.</summary>
    Misconfigured,
    /// <summary>Anything else; <see cref="TargetException.IsTransient"/> says whether to retry.</summary>
    Other,
}

/// <summary>
/// A storage failure, classified where it arises (STYLE.md rule 5). The message names the target and the object,
/// never a secret.
/// </summary>
public sealed class TargetException : LifeboatException
{
    public TargetException(TargetErrorKind kind, string message, bool? isTransient = null, string? hint = null, Exception? inner = null)
        : base(CodeFor(kind), message, hint ?? HintFor(kind), inner)
    {
        Kind = kind;
        IsTransient = isTransient ?? kind == TargetErrorKind.Unavailable;
    }

    public TargetErrorKind Kind { get; }

    /// <summary>Whether retrying the same operation later may succeed.</summary>
    public bool IsTransient { get; }

    /// <summary>Whether an I/O error is a full disk or an exceeded quota (ENOSPC, EDQUOT; Windows' disk-full codes).</summary>
    public static bool IsNoSpace(IOException io)
        => io.HResult is 28 or 122 or 112 or unchecked((int)0x80070070) || io.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase);

    private static ErrorCode CodeFor(TargetErrorKind kind) => kind switch
    {
        TargetErrorKind.AuthenticationFailed or TargetErrorKind.AccessDenied or TargetErrorKind.Misconfigured => ErrorCode.Config,
        TargetErrorKind.NotFound => ErrorCode.NotFound,
        TargetErrorKind.NoSpace => ErrorCode.NoSpace,
        _ => ErrorCode.TargetFailed,
    };

    private static string? HintFor(TargetErrorKind kind) => kind switch
    {
        TargetErrorKind.NoSpace => "free space on the target or move the repository, then run the command again; the repository is consistent",
        TargetErrorKind.AccessDenied => "check the permissions of the user running lifeboat on the target",
        _ => null,
    };
}
