using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>Schedules:NAME: run a job on a cron schedule (lifeboat serve, or exported to systemd/cron).</summary>
public sealed class ScheduleOptions
{
    public string? Source { get; set; }

    /// <summary>For kind stack: the stack to back up.</summary>
    public string? Stack { get; set; }

    /// <summary>full, incr, backup, logical, files, stack, verify, expire, replicate, drill.</summary>
    public string? Kind { get; set; }

    /// <summary>Five-field cron expression (minute hour day month weekday).</summary>
    public string? Cron { get; set; }

    /// <summary>IANA time zone of the cron expression (default UTC).</summary>
    public string? TimeZone { get; set; }

    /// <summary>A random delay up to this long before each run (spreads load).</summary>
    public TimeSpan Jitter { get; set; } = TimeSpan.Zero;

    /// <summary>Attempts before a failed run is recorded as failed (retries with backoff).</summary>
    public int MaxAttempts { get; set; } = 3;

    internal void Validate(string name, string configPath, LifeboatOptions options)
    {
        if (Kind is null || !Catalog.JobKinds.Schedulable.Contains(Kind))
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} has the kind '{Kind}'", $"use one of {string.Join(", ", Catalog.JobKinds.Schedulable)}");
        }

        if (Kind == Catalog.JobKinds.Stack)
        {
            if (Stack is null || !options.Stacks.ContainsKey(Stack))
            {
                throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} names the stack '{Stack}', which is not configured", "set Schedules:" + name + ":Stack to a configured stack");
            }
        }

        var needsSource = Kind is not (Catalog.JobKinds.Verify or Catalog.JobKinds.Replicate or Catalog.JobKinds.Stack);
        if (needsSource && (Source is null || !options.Sources.ContainsKey(Source)))
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} names the source '{Source}', which is not configured", "set Schedules:" + name + ":Source to a configured source");
        }

        try
        {
            _ = Cronos.CronExpression.Parse(Cron ?? "");
        }
        catch (Cronos.CronFormatException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} has the cron expression '{Cron}', which is not valid: {ex.Message}", "use five fields: minute hour day-of-month month day-of-week, for example '0 2 * * *'");
        }

        _ = new Core.Retention.RetentionPolicy { TimeZone = TimeZone }.Zone();
        if (Jitter < TimeSpan.Zero || MaxAttempts < 1)
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath}: Jitter must not be negative and MaxAttempts must be at least 1", "fix the values");
        }
    }
}
