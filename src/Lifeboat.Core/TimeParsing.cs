using System.Globalization;

namespace Lifeboat.Core;

/// <summary>Times as CLI.md accepts them: ISO 8601 with an offset, or PostgreSQL's "YYYY-MM-DD HH:MM:SS[.ffffff][+TZ]".</summary>
public static class TimeParsing
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF'Z'",
    ];

    public static DateTimeOffset Parse(string text, string what)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }

        throw new LifeboatException(ErrorCode.InvalidInput, $"{what} '{text}' is not a time with an offset", "write for example 2026-11-22T14:03:00+00:00 or '2026-11-22 14:03:00+01'");
    }

    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        // A bare "+HH" or "-HH" offset (PostgreSQL's style) is accepted as "+HH:00".
        return DateTimeOffset.TryParseExact(s, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value);
    }

    /// <summary>The form PostgreSQL's recovery_target_time accepts and people read: "2026-11-22 14:03:00.123456+00".</summary>
    public static string ToPostgres(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture) + "+00";
}
