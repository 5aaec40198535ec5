using System.Globalization;

namespace Lifeboat.Core;

/// <summary>Durations typed by people on the command line ("90d", "36h", "2w") and their printing.</summary>
public static class Duration
{
    /// <summary>
    /// Parses a count with a unit — <c>s</c>, <c>m</c> (minutes), <c>h</c>, <c>d</c>, <c>w</c> — or a .NET time span
    /// (<c>7.00:00:00</c>, <c>12:00:00</c>), as the configuration file writes them.
    /// </summary>
    /// <exception cref="LifeboatException">Not a duration, or negative (exit 2, naming <paramref name="what"/>).</exception>
    public static TimeSpan Parse(string text, string what)
    {
        if (TryParse(text, out var value))
        {
            return value;
        }

        throw new LifeboatException(ErrorCode.Usage, $"{what} '{text}' is not a duration", "write a count and a unit: 90d (days), 36h, 30m, 2w (weeks), or 7.00:00:00");
    }

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        if (s.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var unit = s[^1];
        if (!long.TryParse(s[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > 100_000)
        {
            return false;
        }

        TimeSpan? result = unit switch
        {
            's' => TimeSpan.FromSeconds(count),
            'm' => TimeSpan.FromMinutes(count),
            'h' => TimeSpan.FromHours(count),
            'd' => TimeSpan.FromDays(count),
            'w' => TimeSpan.FromDays(7 * count),
            _ => null,
        };
        value = result ?? TimeSpan.Zero;
        return result is not null;
    }

    /// <summary>The configuration file's form of a duration (<c>d.hh:mm:ss</c>), which the options binder reads back.</summary>
    public static string ToConfig(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
