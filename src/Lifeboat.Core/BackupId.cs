using System.Globalization;
using System.Text.RegularExpressions;

namespace Lifeboat.Core;

/// <summary>
/// Backup ids: <c>YYYYMMDD-HHMMSS-xxxx</c>, the UTC start time and four hex digits holding the fraction of that second
/// (in units of 1/65536 s), so ids sort by start time even within one second (repository format, section 10).
/// </summary>
public static partial class BackupId
{
    public static string New(DateTimeOffset startedUtc)
    {
        var utc = startedUtc.UtcDateTime;
        var fraction = (int)(utc.Ticks % TimeSpan.TicksPerSecond * 65536 / TimeSpan.TicksPerSecond);
        return utc.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + fraction.ToString("x4", CultureInfo.InvariantCulture);
    }

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    // [0-9], not \d (which also matches other scripts' digits), and \z, not $ (which also matches before a final '\n'):
    // an id becomes an object name, so only the exact form is valid.
    [GeneratedRegex(@"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
