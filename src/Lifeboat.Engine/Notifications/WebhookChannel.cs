using System.Globalization;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;

namespace Lifeboat.Engine.Notifications;

/// <summary>What the catalog's webhook rows hold as JSON, read and written in one place.</summary>
public static class WebhookRows
{
    public static IReadOnlyList<string> Patterns(WebhookRecord w) => JsonSerializer.Deserialize(w.Events, LifeboatJson.Compact.IReadOnlyListString) ?? [];

    public static IReadOnlyList<WebhookSecret> Secrets(WebhookRecord w) => JsonSerializer.Deserialize(w.Secrets, LifeboatJson.Compact.IReadOnlyListWebhookSecret) ?? [];

    public static string Json(IReadOnlyList<string> patterns) => JsonSerializer.Serialize(patterns, LifeboatJson.Compact.IReadOnlyListString);

    public static string Json(IReadOnlyList<WebhookSecret> secrets) => JsonSerializer.Serialize(secrets, LifeboatJson.Compact.IReadOnlyListWebhookSecret);

    public const string ChannelPrefix = "webhook:";
}

/// <summary>
/// Webhooks as a delivery channel (Standard Webhooks): the body is the event's envelope as JSON, with
/// <c>webhook-id</c> (the event id: the same on every retry and redelivery, so receivers can de-duplicate),
/// <c>webhook-timestamp</c> (the attempt's Unix time) and <c>webhook-signature</c> (one <c>v1,</c> signature per secret
/// in force). A <c>410 Gone</c> disables the endpoint and dead-letters what was pending for it (<c>webhook.disabled</c>).
/// </summary>
public sealed class WebhookChannel : IDeliveryChannel
{
    private readonly CatalogAccess _catalog;
    private readonly Events _events;
    private readonly Workspace _workspace;
    private readonly TimeProvider _time;

    public WebhookChannel(CatalogAccess catalog, Events events, Workspace workspace, TimeProvider time)
    {
        _catalog = catalog;
        _events = events;
        _workspace = workspace;
        _time = time;
    }

    public string Kind => "webhook";

    public async Task<ChannelTarget> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var hook = (await catalog.WebhooksAsync(null, cancellationToken)).FirstOrDefault(w => w.Id == name);
        if (hook is null)
        {
            return MissingChannel.Of("the webhook was removed");
        }

        if (!hook.Enabled)
        {
            return MissingChannel.Of($"the webhook is disabled: {hook.DisabledReason}", DeliveryStates.Dead);
        }

        return new Target(this, hook);
    }

    private sealed class Target(WebhookChannel channel, WebhookRecord hook) : ChannelTarget
    {
        public override Task<AttemptOutcome> SendAsync(DeliveryRecord delivery, EventRecord e, CancellationToken cancellationToken)
        {
            var now = channel._time.GetUtcNow();
            var body = EventView.From(e).ToJson();
            var timestamp = now.ToUnixTimeSeconds();
            var headers = new Dictionary<string, string>
            {
                ["webhook-id"] = e.Id,
                ["webhook-timestamp"] = timestamp.ToString(CultureInfo.InvariantCulture),
                ["webhook-signature"] = WebhookSigning.Signature(e.Id, timestamp, body, WebhookSigning.InForce(WebhookRows.Secrets(hook), now)),
            };
            return HttpDelivery.PostAsync(hook.Url, body, headers, channel._workspace.OptionsOrEmpty.Events.Webhooks.Timeout, channel._time, cancellationToken);
        }

        public override async Task AfterAsync(DeliveryRecord delivery, AttemptOutcome outcome, CancellationToken cancellationToken)
        {
            if (!outcome.Gone)
            {
                return;
            }

            var reason = $"the endpoint answered 410 Gone at {channel._time.GetUtcNow():u}: re-enable it when it is back";
            var catalog = await channel._catalog.OpenAsync(cancellationToken);
            await channel._events.PublishWithAsync(new WebhookDisabled(hook.Id, Redact.Url(hook.Url), reason),
                events => catalog.DisableWebhookAsync(hook.Id, reason, channel._time.GetUtcNow(), events, cancellationToken));
        }
    }
}

/// <summary>Fans an event out to every enabled webhook of its tenant whose filters match its type (test events go nowhere).</summary>
public sealed class WebhookRouter : IDeliveryRouter
{
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private List<WebhookRecord>? _hooks;

    public WebhookRouter(CatalogAccess catalog, TimeProvider time)
    {
        _catalog = catalog;
        _time = time;
    }

    public async Task<Routed> RouteAsync(EventRecord e, CancellationToken cancellationToken)
    {
        if (e.Type == "webhook.test")
        {
            return Routed.Nothing;
        }

        // Read once per pass (the router is scoped to one).
        _hooks ??= await (await _catalog.OpenAsync(cancellationToken)).WebhooksAsync(null, cancellationToken);
        var now = _time.GetUtcNow();
        return new Routed(_hooks.Where(h => h.Enabled && h.Tenant == e.Tenant && EventPatterns.MatchesAny(WebhookRows.Patterns(h), e.Type))
            .Select(h => New(e, WebhookRows.ChannelPrefix + h.Id, "event", now))
            .ToList());
    }

    public static DeliveryRecord New(EventRecord e, string channel, string reason, DateTimeOffset now, string? detail = null) => new()
    {
        Id = "dlv_" + CallContext.NewId(),
        Tenant = e.Tenant,
        Channel = channel,
        EventId = e.Id,
        Reason = reason,
        State = DeliveryStates.Pending,
        Created = now,
        NextAttempt = now,
        Detail = detail,
    };
}
