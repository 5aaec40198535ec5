using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Notifications;

/// <summary>Where deliveries go: one kind of channel (<c>webhook</c>, <c>email</c>, <c>chat</c>), found by the name after the colon.</summary>
public interface IDeliveryChannel
{
    string Kind { get; }

    Task<ChannelTarget> ResolveAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A channel ready for an attempt, or why it cannot take one (removed: the delivery is cancelled; disabled: dead-lettered).</summary>
public abstract class ChannelTarget
{
    /// <summary>Non-null: the channel cannot take deliveries, and why.</summary>
    public string? Unavailable { get; init; }

    /// <summary>What a delivery to an unavailable channel becomes.</summary>
    public string UnavailableState { get; init; } = DeliveryStates.Cancelled;

    public abstract Task<AttemptOutcome> SendAsync(DeliveryRecord delivery, EventRecord e, CancellationToken cancellationToken);

    /// <summary>After an attempt (a webhook disables itself on 410).</summary>
    public virtual Task AfterAsync(DeliveryRecord delivery, AttemptOutcome outcome, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A channel that is not there (removed, disabled, unknown).</summary>
public sealed class MissingChannel : ChannelTarget
{
    public override Task<AttemptOutcome> SendAsync(DeliveryRecord delivery, EventRecord e, CancellationToken cancellationToken) => throw new InvalidOperationException(Unavailable);

    public static ChannelTarget Of(string why, string state = DeliveryStates.Cancelled) => new MissingChannel { Unavailable = why, UnavailableState = state };
}

/// <summary>Decides which deliveries events get when they are fanned out (webhooks by their filters; notifications by the routing rules).</summary>
public interface IDeliveryRouter
{
    Task<Routed> RouteAsync(EventRecord e, CancellationToken cancellationToken);
}

/// <summary>What a router decided for an event: its deliveries, and the incidents it changed (written with them).</summary>
public sealed record Routed(IReadOnlyList<DeliveryRecord> Deliveries, IReadOnlyList<IncidentRecord>? Incidents = null)
{
    public static Routed Nothing { get; } = new([]);
}

/// <summary>
/// The delivery machinery of one pass (scoped): fans new events out to deliveries, and makes the attempts that are
/// due. An attempt is claimed in the catalog before it is made (counted, and its retry scheduled), so a server killed
/// during it retries on schedule and never makes the same attempt twice; its outcome — delivered, the next attempt
/// (the schedule with jitter, or the receiver's <c>Retry-After</c>), or the dead-letter list after the last — is
/// written with the attempt's log row.
/// </summary>
public sealed partial class Deliveries
{
    private const int DispatchBatch = 500;
    private const int DueBatch = 256;
    private static readonly TimeSpan LostAttemptRetry = TimeSpan.FromMinutes(15);

    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly IEnumerable<IDeliveryChannel> _channels;
    private readonly IEnumerable<IDeliveryRouter> _routers;
    private readonly TimeProvider _time;
    private readonly ILogger<Deliveries> _logger;

    public Deliveries(CallContext call, CatalogAccess catalog, IEnumerable<IDeliveryChannel> channels, IEnumerable<IDeliveryRouter> routers, TimeProvider time, ILogger<Deliveries> logger)
    {
        _call = call;
        _catalog = catalog;
        _channels = channels;
        _routers = routers;
        _time = time;
        _logger = logger;
    }

    private WebhookOptions Options => _call.Workspace.OptionsOrEmpty.Events.Webhooks;

    /// <summary>Fans out every event not dispatched yet; returns how many events were dispatched.</summary>
    public async Task<int> DispatchAsync(CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var total = 0;
        while (true)
        {
            var events = await catalog.UndispatchedEventsAsync(DispatchBatch, cancellationToken);
            if (events.Count == 0)
            {
                return total;
            }

            var batch = new List<DispatchedEvent>();
            foreach (var e in events)
            {
                var deliveries = new List<DeliveryRecord>();
                var incidents = new List<IncidentRecord>();
                foreach (var router in _routers)
                {
                    var routed = await router.RouteAsync(e, cancellationToken);
                    deliveries.AddRange(routed.Deliveries);
                    incidents.AddRange(routed.Incidents ?? []);
                }

                batch.Add(new DispatchedEvent(e.Id, deliveries) { Incidents = incidents });
            }

            await catalog.DispatchAsync(batch, cancellationToken);
            total += events.Count;
            if (events.Count < DispatchBatch)
            {
                return total;
            }
        }
    }

    /// <summary>Makes the attempts that are due, at most Events:Webhooks:MaxConcurrency at once; returns how many were made.</summary>
    public async Task<int> AttemptDueAsync(CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var due = await catalog.DueDeliveriesAsync(_time.GetUtcNow(), DueBatch, cancellationToken);
        if (due.Count == 0)
        {
            return 0;
        }

        var made = 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxConcurrency, CancellationToken = cancellationToken }, async (d, ct) =>
        {
            if (await AttemptAsync(d, retry: true, ct) is not null)
            {
                Interlocked.Increment(ref made);
            }
        });
        return made;
    }

    /// <summary>
    /// One attempt of <paramref name="delivery"/> now; the delivery as it is afterwards, or null when another worker
    /// claimed it. Without <paramref name="retry"/> (a test) a failed attempt is final.
    /// </summary>
    public async Task<DeliveryRecord?> AttemptAsync(DeliveryRecord delivery, bool retry, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var now = _time.GetUtcNow();
        var colon = delivery.Channel.IndexOf(':', StringComparison.Ordinal);
        var kind = colon < 0 ? delivery.Channel : delivery.Channel[..colon];
        var channel = _channels.FirstOrDefault(c => c.Kind == kind);
        var target = channel is null ? MissingChannel.Of($"no channel of kind '{kind}'") : await channel.ResolveAsync(delivery.Channel[(colon + 1)..], cancellationToken);
        var e = await catalog.EventAsync(delivery.Tenant, delivery.EventId, cancellationToken);
        if (target.Unavailable is not null || e is null)
        {
            var why = target.Unavailable ?? "its event is no longer in the log";
            await catalog.SetDeliveryStateAsync(delivery.Id, target.Unavailable is null ? DeliveryStates.Cancelled : target.UnavailableState, why, now, cancellationToken);
            return delivery with { State = target.UnavailableState, LastError = why };
        }

        var schedule = Options.Schedule();
        if (retry && delivery.Attempts > schedule.Count)
        {
            // Claimed for its last attempt by a process that died before it recorded the outcome.
            const string Lost = "the last attempt was interrupted before its answer was recorded";
            await catalog.SetDeliveryStateAsync(delivery.Id, DeliveryStates.Dead, Lost, now, cancellationToken);
            return delivery with { State = DeliveryStates.Dead, LastError = Lost };
        }

        var fallback = retry && delivery.Attempts < schedule.Count ? now + Jittered(schedule[delivery.Attempts]) : now + LostAttemptRetry;
        if (!await catalog.ClaimDeliveryAsync(delivery.Id, delivery.Attempts, fallback, cancellationToken))
        {
            return null;
        }

        var attempt = delivery.Attempts + 1;
        AttemptOutcome outcome;
        try
        {
            outcome = await target.SendAsync(delivery, e, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            outcome = new AttemptOutcome(null, 0, ex.Message, null);
        }

        var (state, next) = outcome.Succeeded
            ? (DeliveryStates.Delivered, (DateTimeOffset?)null)
            : outcome.Gone || !retry || attempt > schedule.Count
                ? (DeliveryStates.Dead, null)
                : (DeliveryStates.Pending, _time.GetUtcNow() + (outcome.RetryAfter ?? Jittered(schedule[attempt - 1])));
        var finished = state == DeliveryStates.Pending ? (DateTimeOffset?)null : _time.GetUtcNow();
        await catalog.RecordAttemptAsync(new DeliveryAttemptRecord(delivery.Id, attempt, now, outcome.Status, outcome.LatencyMs, outcome.Error, outcome.Response), state, next, finished, CancellationToken.None);
        await target.AfterAsync(delivery, outcome, CancellationToken.None);
        if (state == DeliveryStates.Dead)
        {
            LogDead(_logger, delivery.Id, delivery.Channel, delivery.EventId, attempt, outcome.Error ?? "");
        }
        else if (state == DeliveryStates.Pending)
        {
            LogRetry(_logger, delivery.Id, delivery.Channel, attempt, outcome.Error ?? "", next!.Value);
        }

        return delivery with { State = state, Attempts = attempt, NextAttempt = next, Finished = finished, LastStatus = outcome.Status, LastError = outcome.Error };
    }

    private TimeSpan Jittered(TimeSpan wait)
    {
        var jitter = Options.Jitter;
        return jitter <= 0 ? wait : TimeSpan.FromTicks((long)(wait.Ticks * (1 + ((Random.Shared.NextDouble() * 2) - 1) * jitter)));
    }

    [LoggerMessage(EventId = 7203, Level = LogLevel.Warning, Message = "Delivery {DeliveryId} of event {EventId} to {Channel} failed for good after {Attempts} attempt(s) (dead-letter list): {Error}")]
    private static partial void LogDead(ILogger logger, string deliveryId, string channel, string eventId, int attempts, string error);

    [LoggerMessage(EventId = 7204, Level = LogLevel.Information, Message = "Delivery {DeliveryId} to {Channel}: attempt {Attempt} failed ({Error}); next at {Next}")]
    private static partial void LogRetry(ILogger logger, string deliveryId, string channel, int attempt, string error, DateTimeOffset next);
}
