using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Lifeboat.Core;

/// <summary>
/// Backup ids: <c>YYYYMMDD-HHMMSS-xxxx</c>, the UTC start time and four random hex digits, so ids sort by time
/// (repository format, section 10).
/// </summary>
public static partial class BackupId
{
    public static string New(DateTimeOffset startedUtc)
    {
        Span<byte> random = stackalloc byte[2];
        RandomNumberGenerator.Fill(random);
        return startedUtc.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Hex.Encode(random);
    }

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    // [0-9], not \d (which also matches other scripts' digits), and \z, not $ (which also matches before a final '\n'):
    // an id becomes an object name, so only the exact form is valid.
    [GeneratedRegex(@"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
