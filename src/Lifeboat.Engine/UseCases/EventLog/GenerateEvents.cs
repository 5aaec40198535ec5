using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <param name="Count">How many events (1–1,000,000).</param>
/// <param name="PerMinute">At this rate (absent: as fast as the catalog takes them).</param>
public sealed record GenerateEventsRequest(int Count, int? PerMinute = null);

/// <param name="Batch">The id every generated event carries in its data (<c>batch</c>), to count them at the receiver.</param>
public sealed record GenerateEventsResult(string Batch, int Count, double Seconds);

/// <summary>
/// `events generate`: publishes <c>test.generated</c> events the way every event is published (each in its own
/// transaction of the event log), to exercise delivery end to end: a webhook that takes <c>test.*</c> receives them.
/// The benchmark (bench/events.sh) and the crash tests use it.
/// </summary>
public sealed class GenerateEvents(Events events, TimeProvider time) : IUseCase<GenerateEventsRequest, GenerateEventsResult>
{
    public async Task<GenerateEventsResult> ExecuteAsync(GenerateEventsRequest request, CancellationToken cancellationToken)
    {
        if (request.Count is < 1 or > 1_000_000)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«count» {request.Count} is out of range", "generate 1 to 1,000,000 events");
        }

        if (request.PerMinute is < 1 or > 6_000_000)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«perMinute» {request.PerMinute} is out of range", "give a rate from 1 to 6,000,000 events a minute, or leave it out");
        }

        var batch = CallContext.NewId()[..12];
        var started = time.GetTimestamp();
        for (var i = 0; i < request.Count; i++)
        {
            if (request.PerMinute is { } rate)
            {
                // Paced against the start, so that a slow write is caught up rather than added to.
                var due = TimeSpan.FromMinutes((double)i / rate) - time.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, time, cancellationToken);
                }
            }

            await events.PublishAsync(new TestEvent("generated", null, i, batch), cancellationToken);
        }

        return new GenerateEventsResult(batch, request.Count, time.GetElapsedTime(started).TotalSeconds);
    }
}
