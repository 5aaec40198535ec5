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

    [GeneratedRegex(@"^\d{8}-\d{6}-[0-9a-f]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
