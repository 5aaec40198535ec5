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
        => Check(options, (key, problem, hint) => new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath}: {key} {problem}", hint.Replace("KEY", $"Schedules:{name}:{key}", StringComparison.Ordinal)));

    /// <summary>
    /// The configuration loader's rules for a schedule given in a request (the API, `schedule add`): the same checks,
    /// exit 2 / 400 naming the request field («kind», «source», «stack», «cron», «timeZone», «jitter», «maxAttempts»).
    /// </summary>
    public void ValidateRequest(LifeboatOptions options)
        => Check(options, (key, problem, hint) => new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref(char.ToLowerInvariant(key[0]) + key[1..])} {problem}", hint.Replace("KEY", FieldText.Ref(char.ToLowerInvariant(key[0]) + key[1..]), StringComparison.Ordinal)));

    /// <param name="fail">The error for a setting (its configuration key), what is wrong with it, and a hint (KEY: where to name the setting).</param>
    private void Check(LifeboatOptions options, Func<string, string, string, LifeboatException> fail)
    {
        if (Kind is null || !Catalog.JobKinds.Schedulable.Contains(Kind))
        {
            throw fail("Kind", $"'{Kind}' is not a job kind a schedule can run", $"use one of {string.Join(", ", Catalog.JobKinds.Schedulable)}");
        }

        if (Kind == Catalog.JobKinds.Stack)
        {
            if (Stack is null || !options.Stacks.ContainsKey(Stack))
            {
                throw fail("Stack", $"'{Stack}' is not a configured stack", "set KEY to a configured stack");
            }
        }

        var needsSource = Kind is not (Catalog.JobKinds.Verify or Catalog.JobKinds.Replicate or Catalog.JobKinds.Stack);
        if (needsSource && (Source is null || !options.Sources.ContainsKey(Source)))
        {
            throw fail("Source", $"'{Source}' is not a configured source", "set KEY to a configured source");
        }

        try
        {
            _ = Cronos.CronExpression.Parse(Cron ?? "");
        }
        catch (Cronos.CronFormatException ex)
        {
            throw fail("Cron", $"'{Cron}' is not a valid cron expression: {ex.Message}", "use five fields: minute hour day-of-month month day-of-week, for example '0 2 * * *'");
        }

        try
        {
            _ = new Core.Retention.RetentionPolicy { TimeZone = TimeZone }.Zone();
        }
        catch (LifeboatException ex)
        {
            throw fail("TimeZone", $"'{TimeZone}' is not a known time zone", ex.Hint ?? "use an IANA name such as Europe/Berlin or UTC");
        }

        if (Jitter < TimeSpan.Zero)
        {
            throw fail("Jitter", $"{Jitter} is negative", "use a duration of zero or more, such as 00:05:00");
        }

        if (MaxAttempts < 1)
        {
            throw fail("MaxAttempts", $"{MaxAttempts} is less than 1", "use 1 (no retry) or more");
        }
    }
}
