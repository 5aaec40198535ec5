using Cronos;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.Scheduling;

/// <summary>A configured schedule with its parsed cron expression and time zone.</summary>
public sealed class Schedule
{
    public Schedule(string name, ScheduleOptions options)
    {
        Name = name;
        Options = options;
        Expression = CronExpression.Parse(options.Cron!);
        Zone = new RetentionPolicy { TimeZone = options.TimeZone }.Zone();
    }

    public string Name { get; }

    public ScheduleOptions Options { get; }

    public CronExpression Expression { get; }

    public TimeZoneInfo Zone { get; }

    public string Kind => Options.Kind!;

    public string? Source => Options.Source;

    /// <summary>Every configured schedule, by name.</summary>
    public static List<Schedule> All(LifeboatOptions options)
        => options.Schedules.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new Schedule(s.Key, s.Value)).ToList();

    /// <summary>The first occurrence strictly after <paramref name="after"/>.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => Expression.GetNextOccurrence(after, Zone);

    /// <summary>The latest occurrence in (<paramref name="since"/>, <paramref name="until"/>], or null.</summary>
    public DateTimeOffset? LastBetween(DateTimeOffset since, DateTimeOffset until)
    {
        DateTimeOffset? last = null;
        foreach (var occurrence in Expression.GetOccurrences(since, until, Zone, fromInclusive: false, toInclusive: true))
        {
            last = occurrence;
        }

        return last;
    }

    /// <summary>The usual time between two runs (from the next two occurrences), for health thresholds.</summary>
    public TimeSpan? Interval(DateTimeOffset now)
    {
        var a = Next(now);
        var b = a is { } x ? Next(x) : null;
        return a is not null && b is not null ? b - a : null;
    }
}
