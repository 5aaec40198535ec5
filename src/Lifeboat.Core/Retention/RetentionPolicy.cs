using System.Globalization;

namespace Lifeboat.Core.Retention;

/// <summary>
/// How many backups to keep (docs/configuration.md, Retention). Calendar buckets (daily, weekly, monthly, yearly) are
/// counted in <see cref="TimeZone"/>: the newest backup of each of the N most recent days (weeks, months, years) that
/// have a backup is kept. A PITR window keeps every point of the last N days recoverable. Pinned backups never expire,
/// and at least <see cref="MinimumKeep"/> backups always stay.
/// </summary>
public sealed record RetentionPolicy
{
    public int? KeepLast { get; init; }

    public int? KeepDaily { get; init; }

    public int? KeepWeekly { get; init; }

    public int? KeepMonthly { get; init; }

    public int? KeepYearly { get; init; }

    /// <summary>Every point in this window before now must stay recoverable (cluster sources).</summary>
    public TimeSpan? PitrWindow { get; init; }

    public int MinimumKeep { get; init; } = 1;

    /// <summary>IANA time zone of the calendar buckets (default UTC).</summary>
    public string? TimeZone { get; init; }

    /// <summary>True when no rule is set: then nothing expires.</summary>
    public bool KeepsEverything => KeepLast is null && KeepDaily is null && KeepWeekly is null && KeepMonthly is null && KeepYearly is null && PitrWindow is null;

    public TimeZoneInfo Zone()
    {
        if (string.IsNullOrEmpty(TimeZone))
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        }
        catch (TimeZoneNotFoundException)
        {
            throw new LifeboatException(ErrorCode.Config, $"the retention time zone '{TimeZone}' is not known", "use an IANA name such as Europe/Berlin or UTC");
        }
    }

    public void Validate(string where)
    {
        foreach (var (name, value) in new[] { ("KeepLast", KeepLast), ("KeepDaily", KeepDaily), ("KeepWeekly", KeepWeekly), ("KeepMonthly", KeepMonthly), ("KeepYearly", KeepYearly) })
        {
            if (value is < 0)
            {
                throw new LifeboatException(ErrorCode.Config, $"{where}:{name} = {value} is negative", "use 0 or a positive count");
            }
        }

        if (PitrWindow is { } w && w < TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"{where}:PitrWindow is negative", "use a duration such as 7.00:00:00");
        }

        if (MinimumKeep < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"{where}:MinimumKeep = {MinimumKeep} is negative", "use 0 or more (default 1)");
        }

        _ = Zone();
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (KeepLast is { } l) parts.Add($"last {l}");
        if (KeepDaily is { } d) parts.Add($"daily {d}");
        if (KeepWeekly is { } w) parts.Add($"weekly {w}");
        if (KeepMonthly is { } m) parts.Add($"monthly {m}");
        if (KeepYearly is { } y) parts.Add($"yearly {y}");
        if (PitrWindow is { } p) parts.Add($"PITR window {p.TotalDays.ToString("0.##", CultureInfo.InvariantCulture)} days");
        parts.Add($"minimum {MinimumKeep}");
        return string.Join(", ", parts) + (TimeZone is null ? "" : $" ({TimeZone})");
    }
}

/// <summary>A backup as retention sees it.</summary>
/// <param name="Time">When the backup was taken (its start).</param>
/// <param name="RecoverableFrom">For cluster backups: the earliest point it restores to (its stop time).</param>
public sealed record RetentionCandidate(string Id, DateTimeOffset Time, bool Pinned, DateTimeOffset? RecoverableFrom = null);

/// <summary>A decision with every reason for it ("kept: monthly 2026-10", "deleted: outside all rules").</summary>
public sealed record RetentionDecision(string Id, DateTimeOffset Time, bool Keep, IReadOnlyList<string> Reasons);

/// <summary>Applies a <see cref="RetentionPolicy"/> to a history of backups. Pure: the same input gives the same decisions.</summary>
public static class RetentionPlanner
{
    public static List<RetentionDecision> Plan(IReadOnlyList<RetentionCandidate> backups, RetentionPolicy policy, DateTimeOffset now)
    {
        var ordered = backups.OrderByDescending(b => b.Time).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
        var reasons = ordered.ToDictionary(b => b.Id, _ => new List<string>(), StringComparer.Ordinal);
        if (policy.KeepsEverything)
        {
            foreach (var b in ordered)
            {
                reasons[b.Id].Add("no retention rule is set");
            }

            return ordered.Select(b => new RetentionDecision(b.Id, b.Time, true, reasons[b.Id])).ToList();
        }

        var zone = policy.Zone();
        if (policy.KeepLast is { } last)
        {
            foreach (var b in ordered.Take(last))
            {
                reasons[b.Id].Add($"last {last}");
            }
        }

        Bucket(ordered, reasons, policy.KeepDaily, "daily", t => Local(t, zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Bucket(ordered, reasons, policy.KeepWeekly, "weekly", t =>
        {
            var d = Local(t, zone);
            return $"{ISOWeek.GetYear(d):0000}-W{ISOWeek.GetWeekOfYear(d):00}";
        });
        Bucket(ordered, reasons, policy.KeepMonthly, "monthly", t => Local(t, zone).ToString("yyyy-MM", CultureInfo.InvariantCulture));
        Bucket(ordered, reasons, policy.KeepYearly, "yearly", t => Local(t, zone).ToString("yyyy", CultureInfo.InvariantCulture));

        if (policy.PitrWindow is { } window)
        {
            var windowStart = now - window;
            foreach (var b in ordered.Where(b => (b.RecoverableFrom ?? b.Time) >= windowStart))
            {
                reasons[b.Id].Add("inside the PITR window");
            }

            // The base of the window: the newest backup recoverable at or before its start (or, if none, the oldest).
            var anchor = ordered.FirstOrDefault(b => (b.RecoverableFrom ?? b.Time) <= windowStart) ?? ordered.LastOrDefault();
            if (anchor is not null)
            {
                reasons[anchor.Id].Add($"needed for the PITR window (from {windowStart.ToUniversalTime():yyyy-MM-dd HH:mm}Z)");
            }
        }

        foreach (var b in ordered.Where(b => b.Pinned))
        {
            reasons[b.Id].Add("pinned");
        }

        var kept = ordered.Count(b => reasons[b.Id].Count > 0);
        foreach (var b in ordered.Where(b => reasons[b.Id].Count == 0))
        {
            if (kept >= policy.MinimumKeep)
            {
                break;
            }

            reasons[b.Id].Add($"minimum {policy.MinimumKeep}");
            kept++;
        }

        return ordered.Select(b => new RetentionDecision(b.Id, b.Time, reasons[b.Id].Count > 0, reasons[b.Id].Count > 0 ? reasons[b.Id] : ["outside all rules"])).ToList();
    }

    private static void Bucket(List<RetentionCandidate> ordered, Dictionary<string, List<string>> reasons, int? count, string name, Func<DateTimeOffset, string> bucketOf)
    {
        if (count is not { } n || n <= 0)
        {
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var b in ordered)
        {
            var bucket = bucketOf(b.Time);
            if (seen.Contains(bucket))
            {
                continue;
            }

            if (seen.Count >= n)
            {
                break;
            }

            seen.Add(bucket);
            reasons[b.Id].Add($"{name} {bucket}");
        }
    }

    private static DateTime Local(DateTimeOffset t, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(t, zone).DateTime;
}
