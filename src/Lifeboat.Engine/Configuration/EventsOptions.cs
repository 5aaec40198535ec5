using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>The <c>Events</c> section: the event log's retention and how the server delivers events (docs/events.md).</summary>
public sealed class EventsOptions
{
    /// <summary>How long events are kept. An event that is not delivered yet (pending or dead-lettered) is kept however old.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often the server looks for events written by other processes (a CLI backup, wal-push) and for due retries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How webhooks are delivered.</summary>
    public WebhookOptions Webhooks { get; set; } = new();

    internal void Validate(string configPath)
    {
        Webhooks.Validate(configPath);
        if (Retention < TimeSpan.FromDays(1))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Retention = {Retention} in {configPath} is shorter than a day", "keep events at least a day, for example \"400.00:00:00\" (400 days, the default)");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:PollInterval = {PollInterval} in {configPath} is out of range", "use 10 ms to 1 minute, for example \"00:00:00.250\" (the default)");
        }
    }
}

/// <summary><c>Events:Webhooks</c>: timeouts, the retry schedule, secret rotation (Standard Webhooks).</summary>
public sealed class WebhookOptions
{
    /// <summary>How long one attempt may take (connect, send, answer) before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The schedule when none is configured: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.</summary>
    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
        TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    /// <summary>
    /// The waits between attempts after the first failed one (null: <see cref="DefaultRetrySchedule"/>; the binder would
    /// append a configured list to a default one); after the last the delivery goes to the dead-letter list. Each wait
    /// is varied by up to <see cref="Jitter"/> either way; a <c>Retry-After</c> answer replaces it.
    /// </summary>
    public List<TimeSpan>? RetrySchedule { get; set; }

    public IReadOnlyList<TimeSpan> Schedule() => RetrySchedule ?? DefaultRetrySchedule;

    /// <summary>The share by which each wait of the schedule varies at random (0.2: ±20 %), so receivers coming back are not hit all at once.</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>How long the previous secret still signs after a rotation (both signatures are sent meanwhile).</summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Attempts made at once by one server.</summary>
    public int MaxConcurrency { get; set; } = 16;

    internal void Validate(string configPath)
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:Timeout = {Timeout} in {configPath} is out of range", "use a timeout from 1 second to 5 minutes, for example \"00:00:15\" (the default)");
        }

        if (Schedule().Count > 50 || Schedule().Any(w => w < TimeSpan.Zero || w > TimeSpan.FromDays(7)))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:RetrySchedule in {configPath} has a wait out of range or more than 50 waits", "list up to 50 waits of up to 7 days each, for example [\"00:00:05\", \"00:05:00\", \"00:30:00\"]");
        }

        if (Jitter is < 0 or > 1 || MaxConcurrency is < 1 or > 256 || RotationOverlap < TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:Jitter, MaxConcurrency or RotationOverlap in {configPath} is out of range", "Jitter is a share from 0 to 1, MaxConcurrency 1 to 256, RotationOverlap a duration of zero or more");
        }
    }
}
