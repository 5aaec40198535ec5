using System.Globalization;
using System.Security.Cryptography;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Notifications;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <param name="Url">Where events are POSTed (http:// or https://).</param>
/// <param name="Events">Type patterns it receives (default: every event, <c>*</c>).</param>
/// <param name="Secret">A <c>whsec_</c> signing secret; absent: one is generated and returned once.</param>
public sealed record AddWebhookRequest(string Url, IReadOnlyList<string>? Events = null, string? Secret = null, string? Description = null);

/// <summary>Changes the endpoint's settings (a field left out keeps its value); <see cref="Enabled"/> true re-enables one a 410 disabled.</summary>
public sealed record UpdateWebhookRequest(string Id, string? Url = null, IReadOnlyList<string>? Events = null, string? Description = null, bool? Enabled = null);

public sealed record WebhookIdRequest(string Id);

/// <param name="Secret">The new secret (absent: generated).</param>
/// <param name="Overlap">How long the previous secret keeps signing too (default Events:Webhooks:RotationOverlap; 0: it stops at once).</param>
public sealed record RotateWebhookSecretRequest(string Id, string? Secret = null, string? Overlap = null);

/// <param name="Since">Events at or after this time (or this long ago).</param>
/// <param name="Correlation">The events of one call or run.</param>
/// <param name="Type">Only these types or patterns (within the endpoint's own filter).</param>
public sealed record ReplayWebhookRequest(string Id, string? Since = null, string? Until = null, string? Correlation = null, string? Type = null);

/// <summary>A webhook endpoint (never its secrets: how many sign, and when a rotation's previous secret stops).</summary>
public sealed record WebhookView(string Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason, DateTimeOffset Created, string? CreatedBy, DateTimeOffset Updated, int Secrets, DateTimeOffset? PreviousSecretExpires)
{
    public static WebhookView From(WebhookRecord w, DateTimeOffset now)
    {
        var secrets = WebhookRows.Secrets(w).Where(s => s.Expires is not { } e || e > now).ToList();
        return new(w.Id, Redact.Url(w.Url), WebhookRows.Patterns(w), w.Description, w.Enabled, w.DisabledReason, w.Created, w.CreatedBy, w.Updated, secrets.Count, secrets.Select(s => s.Expires).Max());
    }
}

/// <summary>A new endpoint and its signing secret, shown this once.</summary>
public sealed record CreatedWebhook(string Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, DateTimeOffset Created, string Secret);

/// <summary>The secret that signs from now on (shown this once), and until when the previous one signs too.</summary>
public sealed record RotatedWebhookSecret(string Id, string Secret, DateTimeOffset? PreviousSecretExpires);

public sealed record RemovedWebhook(string Id, string Url);

/// <summary>What a replay queued: one delivery per event of the window (or correlation id) the endpoint's filter takes.</summary>
public sealed record ReplayResult(string Webhook, int Deliveries, bool Truncated);

/// <summary>The webhook use cases' shared steps: find an endpoint of the call's tenant, check patterns.</summary>
public sealed class WebhookStore(CallContext call, CatalogAccess catalog, TimeProvider time)
{
    public string Tenant => call.Workspace.Name;

    public DateTimeOffset Now => time.GetUtcNow();

    public Task<LifeboatCatalog> CatalogAsync(CancellationToken cancellationToken) => catalog.OpenAsync(cancellationToken);

    /// <summary>The endpoint, or NotFound naming «id» (another tenant's is not found either).</summary>
    public async Task<WebhookRecord> GetAsync(string id, CancellationToken cancellationToken)
        => await (await catalog.OpenAsync(cancellationToken)).WebhookAsync(Tenant, id?.Trim() ?? "", cancellationToken)
           ?? throw new LifeboatException(ErrorCode.NotFound, $"there is no webhook with the «id» '{id}'", "`lifeboat webhook list` shows the webhooks and their ids");

    public static IReadOnlyList<string> Patterns(IReadOnlyList<string>? events)
    {
        var patterns = EventPatterns.Check(events ?? ["*"], "events");
        return patterns.Count > 0 ? patterns : throw new LifeboatException(ErrorCode.Usage, "«events» is empty", "name the event types or patterns the endpoint receives (backup.*, drill.failed), or * for every event");
    }
}

/// <summary>`webhook add`, <c>POST /api/v1/webhooks</c>: a new endpoint; its secret (given or generated) is returned once.</summary>
public sealed class AddWebhook(WebhookStore store, Events events, CallContext call) : IUseCase<AddWebhookRequest, CreatedWebhook>
{
    public async Task<CreatedWebhook> ExecuteAsync(AddWebhookRequest request, CancellationToken cancellationToken)
    {
        var url = HttpDelivery.CheckUrl(request.Url, "url").ToString();
        var patterns = WebhookStore.Patterns(request.Events);
        var secret = string.IsNullOrWhiteSpace(request.Secret) ? WebhookSigning.NewSecret() : request.Secret.Trim();
        WebhookSigning.Key(secret);
        var now = store.Now;
        var record = new WebhookRecord
        {
            Id = "wh_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Tenant = store.Tenant,
            Url = url,
            Description = string.IsNullOrWhiteSpace(request.Description) ? null : request.Description.Trim(),
            Events = WebhookRows.Json(patterns),
            Secrets = WebhookRows.Json([new WebhookSecret(secret, now)]),
            Created = now,
            CreatedBy = $"{call.Actor.Kind}:{call.Actor.Name}",
            Updated = now,
        };
        await (await store.CatalogAsync(cancellationToken)).SaveWebhookAsync(record, cancellationToken);
        await events.PublishAsync(new ConfigurationChanged("webhook", "added", record.Id, null, Redact.Url(url)), cancellationToken);
        return new CreatedWebhook(record.Id, Redact.Url(url), patterns, record.Description, true, now, secret);
    }
}

/// <summary>`webhook list`, <c>GET /api/v1/webhooks</c>.</summary>
public sealed class ListWebhooks(WebhookStore store) : IUseCase<ListWebhooksRequest, Page<WebhookView>>
{
    public async Task<Page<WebhookView>> ExecuteAsync(ListWebhooksRequest request, CancellationToken cancellationToken)
        => new((await (await store.CatalogAsync(cancellationToken)).WebhooksAsync(store.Tenant, cancellationToken)).Select(w => WebhookView.From(w, store.Now)).ToList());
}

public sealed record ListWebhooksRequest;

/// <summary><c>GET /api/v1/webhooks/{id}</c>.</summary>
public sealed class ShowWebhook(WebhookStore store) : IUseCase<WebhookIdRequest, WebhookView>
{
    public async Task<WebhookView> ExecuteAsync(WebhookIdRequest request, CancellationToken cancellationToken) => WebhookView.From(await store.GetAsync(request.Id, cancellationToken), store.Now);
}

/// <summary>`webhook update`, <c>PUT /api/v1/webhooks/{id}</c>: URL, filters, description; <c>enabled</c> re-enables it.</summary>
public sealed class UpdateWebhook(WebhookStore store, Events events) : IUseCase<UpdateWebhookRequest, WebhookView>
{
    public async Task<WebhookView> ExecuteAsync(UpdateWebhookRequest request, CancellationToken cancellationToken)
    {
        var hook = await store.GetAsync(request.Id, cancellationToken);
        var url = request.Url is null ? hook.Url : HttpDelivery.CheckUrl(request.Url, "url").ToString();
        var enabled = request.Enabled ?? hook.Enabled;
        var updated = hook with
        {
            Url = url,
            Events = request.Events is null ? hook.Events : WebhookRows.Json(WebhookStore.Patterns(request.Events)),
            Description = request.Description is null ? hook.Description : request.Description.Trim().Length == 0 ? null : request.Description.Trim(),
            Enabled = enabled,
            DisabledReason = enabled ? null : hook.DisabledReason ?? "disabled by hand",
            Updated = store.Now,
        };
        await (await store.CatalogAsync(cancellationToken)).SaveWebhookAsync(updated, cancellationToken);
        await events.PublishAsync(new ConfigurationChanged("webhook", "changed", hook.Id, null, Redact.Url(url)), cancellationToken);
        return WebhookView.From(updated, store.Now);
    }
}

/// <summary>`webhook remove`, <c>DELETE /api/v1/webhooks/{id}</c>: what was still to be delivered to it is cancelled.</summary>
public sealed class RemoveWebhook(WebhookStore store, Events events) : IUseCase<WebhookIdRequest, RemovedWebhook>
{
    public async Task<RemovedWebhook> ExecuteAsync(WebhookIdRequest request, CancellationToken cancellationToken)
    {
        var hook = await store.GetAsync(request.Id, cancellationToken);
        await (await store.CatalogAsync(cancellationToken)).DeleteWebhookAsync(store.Tenant, hook.Id, store.Now, cancellationToken);
        await events.PublishAsync(new ConfigurationChanged("webhook", "removed", hook.Id, null, Redact.Url(hook.Url)), cancellationToken);
        return new RemovedWebhook(hook.Id, Redact.Url(hook.Url));
    }
}

/// <summary>
/// `webhook rotate-secret`, <c>POST /api/v1/webhooks/{id}/rotate-secret</c>: a new secret signs from now on; the
/// previous one signs too until the overlap ends (both signatures are sent), so the receiver can switch at leisure.
/// </summary>
public sealed class RotateWebhookSecret(WebhookStore store, Events events, Workspace workspace) : IUseCase<RotateWebhookSecretRequest, RotatedWebhookSecret>
{
    public async Task<RotatedWebhookSecret> ExecuteAsync(RotateWebhookSecretRequest request, CancellationToken cancellationToken)
    {
        var hook = await store.GetAsync(request.Id, cancellationToken);
        var secret = string.IsNullOrWhiteSpace(request.Secret) ? WebhookSigning.NewSecret() : request.Secret.Trim();
        WebhookSigning.Key(secret);
        var overlap = request.Overlap is { } o ? (o.Trim() == "0" ? TimeSpan.Zero : Duration.Parse(o, FieldText.Ref("overlap"))) : workspace.Options.Events.Webhooks.RotationOverlap;
        var now = store.Now;
        var current = WebhookRows.Secrets(hook).FirstOrDefault(s => s.Expires is null);
        DateTimeOffset? previousEnds = overlap > TimeSpan.Zero && current is not null ? now + overlap : null;
        var secrets = new List<WebhookSecret> { new(secret, now) };
        if (previousEnds is not null)
        {
            secrets.Add(current! with { Expires = previousEnds });
        }

        await (await store.CatalogAsync(cancellationToken)).SaveWebhookAsync(hook with { Secrets = WebhookRows.Json(secrets), Updated = now }, cancellationToken);
        await events.PublishAsync(new ConfigurationChanged("webhook", "secret_rotated", hook.Id, null, previousEnds is { } e ? "previous secret signs until " + e.ToString("O", CultureInfo.InvariantCulture) : "previous secret retired at once"), cancellationToken);
        return new RotatedWebhookSecret(hook.Id, secret, previousEnds);
    }
}

/// <summary>
/// `webhook test`, <c>POST /api/v1/webhooks/{id}/test</c>: sends a <c>webhook.test</c> event to this endpoint alone, now,
/// and answers how the attempt went (it is in the delivery log; a failed test is not retried).
/// </summary>
public sealed class TestWebhook(WebhookStore store, Events events, Deliveries deliveries) : IUseCase<WebhookIdRequest, DeliveryView>
{
    public async Task<DeliveryView> ExecuteAsync(WebhookIdRequest request, CancellationToken cancellationToken)
    {
        var hook = await store.GetAsync(request.Id, cancellationToken);
        var record = EventRecords.From(events.Envelope(new TestEvent("test", WebhookRows.ChannelPrefix + hook.Id)));
        // Not due for the server's worker (no next attempt): this call makes the one attempt itself.
        var delivery = WebhookRouter.New(record, WebhookRows.ChannelPrefix + hook.Id, "test", store.Now) with { NextAttempt = null };
        var catalog = await store.CatalogAsync(cancellationToken);
        await catalog.InsertDeliveriesAsync([delivery], [record], cancellationToken);
        await deliveries.AttemptAsync(delivery, retry: false, cancellationToken);
        return await DeliveryView.LoadAsync(catalog, store.Tenant, delivery.Id, cancellationToken);
    }
}

/// <summary>
/// `webhook replay`, <c>POST /api/v1/webhooks/{id}/replay</c>: redelivers the events of a time window, or of one
/// correlation id, that the endpoint's filter takes (at most 10,000; <c>truncated</c> says when there were more): each
/// gets a new delivery with the usual retries, and the same <c>webhook-id</c> as the first time.
/// </summary>
public sealed class ReplayWebhook(WebhookStore store) : IUseCase<ReplayWebhookRequest, ReplayResult>
{
    public const int MaxEvents = 10_000;

    public async Task<ReplayResult> ExecuteAsync(ReplayWebhookRequest request, CancellationToken cancellationToken)
    {
        var hook = await store.GetAsync(request.Id, cancellationToken);
        var now = store.Now;
        var since = FilterTimes.Parse(request.Since, "since", now);
        var until = FilterTimes.Parse(request.Until, "until", now);
        var correlation = string.IsNullOrWhiteSpace(request.Correlation) ? null : request.Correlation.Trim();
        if (since is null && correlation is null)
        {
            throw new LifeboatException(ErrorCode.Usage, "a replay needs «since» or «correlation»", "say which events to send again: since a time (24h, 2026-11-22T14:00:00Z), optionally until one, or those of one correlation id");
        }

        var own = WebhookRows.Patterns(hook);
        var types = EventPatterns.Parse(request.Type, "type");
        var catalog = await store.CatalogAsync(cancellationToken);
        var deliveries = new List<DeliveryRecord>();
        (DateTimeOffset, string)? before = null;
        var truncated = false;
        while (true)
        {
            var page = await catalog.EventsAsync(new EventQuery(store.Tenant, types.Count > 0 ? types : null, null, null, since, until, correlation, 1000, before), cancellationToken);
            foreach (var e in page.Where(e => e.Type != "webhook.test" && EventPatterns.MatchesAny(own, e.Type)))
            {
                if (deliveries.Count == MaxEvents)
                {
                    truncated = true;
                    break;
                }

                deliveries.Add(WebhookRouter.New(e, WebhookRows.ChannelPrefix + hook.Id, "replay", now));
            }

            if (truncated || page.Count < 1000)
            {
                break;
            }

            before = (page[^1].Time, page[^1].Id);
        }

        // Oldest first, as they happened.
        deliveries.Reverse();
        await catalog.InsertDeliveriesAsync(deliveries, [], cancellationToken);
        return new ReplayResult(hook.Id, deliveries.Count, truncated);
    }
}
