using System.Globalization;
using System.Text.RegularExpressions;

namespace Lifeboat.Targets.Ftp;

/// <summary>Directory listings of FTP servers: MLSD (RFC 3659, exact) and the <c>ls -l</c> lines of LIST (vsftpd and most others).</summary>
internal static partial class FtpListing
{
    public sealed record Entry(string Name, bool IsDirectory, long Size, DateTimeOffset? Modified);

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    /// <summary>MLSD lines: <c>fact=value;fact=value; name</c>; entries other than files and directories are skipped.</summary>
    public static List<Entry> ParseMlsd(string text)
    {
        var result = new List<Entry>();
        foreach (var line in Lines(text))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space <= 0)
            {
                continue;
            }

            var facts = line[..space].Split(';', StringSplitOptions.RemoveEmptyEntries)
                .Select(f => f.Split('=', 2))
                .Where(f => f.Length == 2)
                .GroupBy(f => f[0].ToLowerInvariant())
                .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);
            var name = line[(space + 1)..];
            var type = facts.GetValueOrDefault("type")?.ToLowerInvariant();
            if (type is not ("file" or "dir") || name is "." or "..")
            {
                continue;
            }

            _ = long.TryParse(facts.GetValueOrDefault("size"), NumberStyles.None, CultureInfo.InvariantCulture, out var size);
            DateTimeOffset? modified = DateTimeOffset.TryParseExact(facts.GetValueOrDefault("modify")?.Split('.')[0], "yyyyMMddHHmmss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var m) ? m : null;
            result.Add(new Entry(name, type == "dir", size, modified));
        }

        return result;
    }

    /// <summary>
    /// LIST lines as <c>ls -l</c> prints them (<c>-rw------- 1 104 106 1135 Dec 03 17:18 name</c>): times to the minute
    /// for the last six months (the year is the one that puts the time not after <paramref name="now"/>), dates only
    /// before; read as UTC. Symbolic links and other kinds are skipped.
    /// </summary>
    public static List<Entry> ParseList(string text, DateTimeOffset now)
    {
        var result = new List<Entry>();
        foreach (var line in Lines(text))
        {
            var match = LsLine().Match(line);
            if (!match.Success || match.Groups["kind"].Value is not ("-" or "d"))
            {
                continue;
            }

            var name = match.Groups["name"].Value;
            if (name is "." or "..")
            {
                continue;
            }

            _ = long.TryParse(match.Groups["size"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size);
            result.Add(new Entry(name, match.Groups["kind"].Value == "d", size, Time(match, now)));
        }

        return result;
    }

    private static DateTimeOffset? Time(Match match, DateTimeOffset now)
    {
        var month = Array.IndexOf(Months, match.Groups["month"].Value) + 1;
        if (month == 0 || !int.TryParse(match.Groups["day"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var day))
        {
            return null;
        }

        var clock = match.Groups["clock"].Value;
        try
        {
            if (clock.Contains(':', StringComparison.Ordinal))
            {
                var parts = clock.Split(':');
                var hour = int.Parse(parts[0], CultureInfo.InvariantCulture);
                var minute = int.Parse(parts[1], CultureInfo.InvariantCulture);
                var time = new DateTimeOffset(now.UtcDateTime.Year, month, day, hour, minute, 0, TimeSpan.Zero);
                // A time without a year is within the last six months: a date ahead of now (beyond clock skew) is last year's.
                return time > now.AddDays(1) ? time.AddYears(-1) : time;
            }

            return new DateTimeOffset(int.Parse(clock, CultureInfo.InvariantCulture), month, day, 0, 0, 0, TimeSpan.Zero);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static IEnumerable<string> Lines(string text)
        => text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0);

    [GeneratedRegex(@"^(?<kind>[\-dlbcps])\S{9}\S?\s+\d+\s+\S+\s+\S+\s+(?<size>\d+)\s+(?<month>[A-Z][a-z]{2})\s+(?<day>\d{1,2})\s+(?<clock>\d{1,2}:\d{2}|\d{4})\s(?<name>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex LsLine();
}
