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
