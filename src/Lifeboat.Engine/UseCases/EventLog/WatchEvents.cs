using System.Runtime.CompilerServices;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <param name="Type">Event types or patterns, comma-separated.</param>
/// <param name="Source">Only events about this source.</param>
/// <param name="Severity">This severity and worse.</param>
/// <param name="LastEventId">Resume after this event (the SSE <c>Last-Event-ID</c> of a reconnecting client); else from now.</param>
public sealed record WatchEventsRequest(string? Type = null, string? Source = null, string? Severity = null, string? LastEventId = null);

/// <summary>The events of a live stream, as they are committed, until the caller stops reading.</summary>
public sealed record EventStream(IAsyncEnumerable<EventView> Events);

/// <summary>
/// <c>GET /api/v1/events/stream</c>: the tenant's events as they are committed — by this server or by any process
/// writing the same catalog (a CLI backup, wal-push) — filtered like <see cref="ListEvents"/>. The stream tails the
/// catalog: it wakes when this process commits an event and at least once a second, and reads again from two seconds
/// before the newest event it sent, skipping those it has sent, so an event whose transaction committed late is not
/// lost. A client that reconnects with <see cref="WatchEventsRequest.LastEventId"/> gets what it missed.
/// </summary>
public sealed class WatchEvents : IUseCase<WatchEventsRequest, EventStream>
{
    private const int Batch = 500;
    private static readonly TimeSpan Lookback = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly EventBus _bus;
    private readonly TimeProvider _time;

    public WatchEvents(Workspace workspace, CatalogAccess catalog, EventBus bus, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _bus = bus;
        _time = time;
    }

    public async Task<EventStream> ExecuteAsync(WatchEventsRequest request, CancellationToken cancellationToken)
    {
        var types = EventPatterns.Parse(request.Type, "type");
        var severity = FilterTimes.Severity(request.Severity, "severity");
        var source = string.IsNullOrWhiteSpace(request.Source) ? null : request.Source.Trim();
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var start = _time.GetUtcNow();
        var skipThrough = (string?)null;
        if (!string.IsNullOrWhiteSpace(request.LastEventId) && await catalog.EventAsync(_workspace.Name, request.LastEventId.Trim(), cancellationToken) is { } last)
        {
            start = last.Time;
            skipThrough = last.Id;
        }

        bool Wanted(EventView e) => EventPatterns.MatchesAny(types, e.Type) && (source is null || e.Source == source)
                                    && (severity is null || (int)(EventRecords.ParseSeverity(e.Severity) ?? EventSeverity.Info) >= (int)severity);
        return new EventStream(TailAsync(catalog, start, skipThrough, Wanted, cancellationToken));
    }

    private async IAsyncEnumerable<EventView> TailAsync(Catalog.LifeboatCatalog catalog, DateTimeOffset from, string? skipThrough, Func<EventView, bool> wanted, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var order = new Queue<string>();
        var cursor = from;
        var lookback = skipThrough is null ? TimeSpan.Zero : Lookback;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = await catalog.EventsSinceAsync(_workspace.Name, cursor - lookback, Batch, cancellationToken);
            foreach (var record in batch)
            {
                if (record.Time < from || (skipThrough is not null && record.Time == from && string.CompareOrdinal(record.Id, skipThrough) <= 0))
                {
                    continue;
                }

                if (!seen.Add(record.Id))
                {
                    continue;
                }

                order.Enqueue(record.Id);
                if (order.Count > 10_000)
                {
                    seen.Remove(order.Dequeue());
                }

                var view = EventView.From(record);
                if (wanted(view))
                {
                    yield return view;
                }
            }

            if (batch.Count > 0 && batch[^1].Time > cursor)
            {
                cursor = batch[^1].Time;
            }

            // A full batch: read on at once from its end (no look-back, or the same batch would come back).
            lookback = batch.Count == Batch ? TimeSpan.Zero : Lookback;
            if (batch.Count < Batch)
            {
                try
                {
                    await _bus.WaitAsync(Poll, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}
