using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>The <c>Events</c> section: the event log's retention and how the server delivers events (docs/events.md).</summary>
public sealed class EventsOptions
{
    /// <summary>How long events are kept. An event that is not delivered yet (pending or dead-lettered) is kept however old.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often the server looks for events written by other processes (a CLI backup, wal-push) and for due retries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    internal void Validate(string configPath)
    {
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
