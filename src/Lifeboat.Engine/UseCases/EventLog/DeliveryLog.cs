using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Notifications;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <summary>One attempt in the delivery log.</summary>
public sealed record AttemptView(int Attempt, DateTimeOffset Time, int? Status, long LatencyMs, string? Error, string? Response);

/// <summary>
/// One event on its way to one channel: its state (<c>pending</c>, <c>delivered</c>, <c>dead</c> — the dead-letter
/// list — or <c>cancelled</c>), why it exists, its attempts and when the next is due.
/// </summary>
public sealed record DeliveryView(
    string Id,
    string Channel,
    string EventId,
    string? EventType,
    string Reason,
    string State,
    int Attempts,
    DateTimeOffset Created,
    DateTimeOffset? NextAttempt,
    DateTimeOffset? Finished,
    int? LastStatus,
    string? LastError,
    IReadOnlyList<AttemptView> Log)
{
    public static async Task<DeliveryView> LoadAsync(LifeboatCatalog catalog, string tenant, string id, CancellationToken cancellationToken)
    {
        var d = await catalog.DeliveryAsync(tenant, id, cancellationToken) ?? throw NotFound(id);
        return await FromAsync(catalog, d, cancellationToken);
    }

    public static async Task<DeliveryView> FromAsync(LifeboatCatalog catalog, DeliveryRecord d, CancellationToken cancellationToken)
    {
        var e = await catalog.EventAsync(d.Tenant, d.EventId, cancellationToken);
        var attempts = await catalog.AttemptsAsync(d.Id, cancellationToken);
        return new(d.Id, d.Channel, d.EventId, e?.Type, d.Reason, d.State, d.Attempts, d.Created, d.NextAttempt, d.Finished, d.LastStatus, d.LastError,
            attempts.Select(a => new AttemptView(a.Attempt, a.Time, a.Status, a.LatencyMs, a.Error, a.Response)).ToList());
    }

    public static LifeboatException NotFound(string id) => new(ErrorCode.NotFound, $"there is no delivery with the «id» '{id}'", "`lifeboat webhook deliveries` lists them with their ids");
}

/// <param name="Webhook">Only the deliveries to this webhook.</param>
/// <param name="Channel">Only those to this channel (<c>webhook:ID</c>, <c>email:NAME</c>, <c>chat:NAME</c>).</param>
/// <param name="State">pending, delivered, dead (the dead-letter list) or cancelled.</param>
/// <param name="Event">Only the deliveries of this event.</param>
public sealed record ListDeliveriesRequest(string? Webhook = null, string? Channel = null, string? State = null, string? Event = null, int Limit = 50, string? Cursor = null);

/// <summary>
/// `webhook deliveries`, <c>GET /api/v1/deliveries</c> and <c>GET /api/v1/webhooks/{id}/deliveries</c>: the delivery
/// log, newest first, each with its attempts (status, latency, the answer's first kilobyte); <c>state=dead</c> is the
/// dead-letter list.
/// </summary>
public sealed class ListDeliveries(WebhookStore store) : IUseCase<ListDeliveriesRequest, Page<DeliveryView>>
{
    private static readonly string[] States = [DeliveryStates.Pending, DeliveryStates.Delivered, DeliveryStates.Dead, DeliveryStates.Cancelled];

    public async Task<Page<DeliveryView>> ExecuteAsync(ListDeliveriesRequest request, CancellationToken cancellationToken)
    {
        var limit = Cursor.Limit(request.Limit, 200);
        var channel = request.Channel;
        if (!string.IsNullOrWhiteSpace(request.Webhook))
        {
            channel = WebhookRows.ChannelPrefix + (await store.GetAsync(request.Webhook, cancellationToken)).Id;
        }

        var state = string.IsNullOrWhiteSpace(request.State) ? null : request.State.Trim();
        if (state is not null && !States.Contains(state, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«state» '{state}' is not a delivery state", "the states are " + string.Join(", ", States) + " (dead: the dead-letter list)");
        }

        (DateTimeOffset, string)? before = null;
        if (request.Cursor is { } cursor)
        {
            var parts = Cursor.Decode(cursor, 2);
            before = (DateTimeOffset.TryParseExact(parts[0], "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : throw new LifeboatException(ErrorCode.Usage, $"«cursor» '{cursor}' is not a cursor of this list", "pass the `next` value of the previous page unchanged"), parts[1]);
        }

        var catalog = await store.CatalogAsync(cancellationToken);
        var records = await catalog.DeliveriesAsync(new DeliveryQuery(store.Tenant, string.IsNullOrWhiteSpace(channel) ? null : channel, state, string.IsNullOrWhiteSpace(request.Event) ? null : request.Event, limit + 1, before), cancellationToken);
        var page = records.Take(limit).ToList();
        var items = new List<DeliveryView>();
        foreach (var d in page)
        {
            items.Add(await DeliveryView.FromAsync(catalog, d, cancellationToken));
        }

        return new Page<DeliveryView>(items, records.Count > limit ? Cursor.Encode(page[^1].Created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture), page[^1].Id) : null);
    }
}

/// <summary><c>GET /api/v1/deliveries/{id}</c>: one delivery and its attempts.</summary>
public sealed class ShowDelivery(WebhookStore store) : IUseCase<WebhookIdRequest, DeliveryView>
{
    public async Task<DeliveryView> ExecuteAsync(WebhookIdRequest request, CancellationToken cancellationToken)
        => await DeliveryView.LoadAsync(await store.CatalogAsync(cancellationToken), store.Tenant, request.Id, cancellationToken);
}

/// <summary>
/// `webhook redeliver`, <c>POST /api/v1/deliveries/{id}/redeliver</c>: the same event to the same channel again, as a
/// new delivery with its own attempts (a dead letter after the receiver is fixed; a delivered one on request).
/// </summary>
public sealed class Redeliver(WebhookStore store) : IUseCase<WebhookIdRequest, DeliveryView>
{
    public async Task<DeliveryView> ExecuteAsync(WebhookIdRequest request, CancellationToken cancellationToken)
    {
        var catalog = await store.CatalogAsync(cancellationToken);
        var d = await catalog.DeliveryAsync(store.Tenant, request.Id?.Trim() ?? "", cancellationToken) ?? throw DeliveryView.NotFound(request.Id ?? "");
        if (d.State == DeliveryStates.Pending)
        {
            throw new LifeboatException(ErrorCode.Refused, $"delivery {d.Id} is still pending (attempt {d.Attempts + 1} at {d.NextAttempt:u})", "wait for it to be delivered or dead-lettered, then redeliver");
        }

        var again = new DeliveryRecord
        {
            Id = "dlv_" + CallContext.NewId(), Tenant = d.Tenant, Channel = d.Channel, EventId = d.EventId, Reason = "redeliver",
            State = DeliveryStates.Pending, Created = store.Now, NextAttempt = store.Now, Detail = d.Detail,
        };
        await catalog.InsertDeliveriesAsync([again], [], cancellationToken);
        return await DeliveryView.FromAsync(catalog, again, cancellationToken);
    }
}
