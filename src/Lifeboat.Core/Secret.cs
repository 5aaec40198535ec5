namespace Lifeboat.Core;

/// <summary>
/// A secret value (passphrase, password, token). <see cref="ToString"/> never reveals it, so a secret
/// that slips into a log message, an exception or an interpolated string prints as <c>***</c>.
/// </summary>
public sealed class Secret
{
    private readonly string _value;

    public Secret(string value) => _value = value ?? throw new ArgumentNullException(nameof(value));

    /// <summary>The secret itself. Call only where the value is handed to the thing that needs it.</summary>
    public string Reveal() => _value;

    public bool IsEmpty => _value.Length == 0;

    public override string ToString() => "***";
}
