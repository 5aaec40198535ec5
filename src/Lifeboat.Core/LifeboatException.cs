namespace Lifeboat.Core;

/// <summary>
/// The one exception type that reaches the user. <see cref="Exception.Message"/> says what went wrong,
/// naming the object and the values involved; <see cref="Hint"/> says how to fix it.
/// Messages and hints must never contain secrets. They name request fields as <c>«field»</c> (see <see cref="FieldText"/>),
/// never as a command-line flag: the CLI and the API each render the reference in their own words.
/// </summary>
public class LifeboatException : Exception
{
    public LifeboatException(ErrorCode code, string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Hint = hint;
    }

    public ErrorCode Code { get; }

    /// <summary>How to fix it, or null when there is nothing useful to say.</summary>
    public string? Hint { get; }

    public int ExitCode => Code.ToExitCode();

    /// <summary>The request fields the message and hint refer to (the API's <c>errors</c> map).</summary>
    public IReadOnlyList<string> Fields => FieldText.Referenced(Message + " " + Hint);

    /// <summary>
    /// A file or directory this OS user may not use: exit 2, naming the path, what was being done (<paramref name="verb"/>:
    /// "read", "write to", "create") and the user, with how to fix it — never an "unexpected error".
    /// </summary>
    /// <param name="what">What the path is, for the message ("the configuration file "), or empty.</param>
    public static LifeboatException PermissionDenied(string path, string verb, string what = "", Exception? inner = null)
    {
        var user = Environment.UserName;
        return new LifeboatException(
            ErrorCode.PermissionDenied,
            $"permission denied: OS user '{user}' cannot {verb} {what}{path}",
            $"let '{user}' {verb} {path} (chown or chmod it, or the directory above it), or run lifeboat as a user that may (the PostgreSQL OS user, or root)",
            inner);
    }

    /// <summary>.NET's "Access to the path '…' is denied" as <see cref="PermissionDenied(string, string, string, Exception?)"/>, naming the path it names.</summary>
    public static LifeboatException PermissionDenied(UnauthorizedAccessException ex)
    {
        var start = ex.Message.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : ex.Message.LastIndexOf('\'', ex.Message.Length - 1);
        var path = start >= 0 && end > start ? ex.Message[(start + 1)..end] : null;
        return path is null
            ? new LifeboatException(ErrorCode.PermissionDenied, $"permission denied for OS user '{Environment.UserName}': {ex.Message}", "run lifeboat as a user that may read and write what the command names (the PostgreSQL OS user, or root)", ex)
            : PermissionDenied(path, "use", "", ex);
    }
}

/// <summary>Verification or a read found damage: the message names every damaged object and the backups it affects.</summary>
public sealed class DamageException : LifeboatException
{
    public DamageException(string message, IReadOnlyList<string> damagedObjects, IReadOnlyList<string> affectedBackups, string? hint = null, Exception? inner = null)
        : base(ErrorCode.Damage, message, hint, inner)
    {
        DamagedObjects = damagedObjects;
        AffectedBackups = affectedBackups;
    }

    public IReadOnlyList<string> DamagedObjects { get; }

    public IReadOnlyList<string> AffectedBackups { get; }
}
