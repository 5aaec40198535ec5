using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Webhook endpoints (Standard Webhooks), their delivery log, the dead-letter list, test, redeliver and replay.</summary>
public static class WebhooksApi
{
    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        var hooks = api.MapGroup("/webhooks").WithTags("webhooks");
        hooks.MapGet("", async (ListWebhooks use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListWebhooksRequest(), ct)))
            .WithName("ListWebhooks").WithSummary("The webhook endpoints (never their secrets)").RequireAuthorization(Permissions.Read);
        hooks.MapPost("", async (AddWebhookRequest request, AddWebhook use, CancellationToken ct) => TypedResults.Created("/api/v1/webhooks", await use.ExecuteAsync(request, ct)))
            .WithName("AddWebhook").WithSummary("Add an endpoint: `url`, `events` (type patterns), `secret` (whsec_…; absent: generated and returned once, as `secret`)").RequireAuthorization(Permissions.Administer);
        hooks.MapGet("/{id}", async (string id, ShowWebhook use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new WebhookIdRequest(id), ct)))
            .WithName("ShowWebhook").WithSummary("One endpoint").RequireAuthorization(Permissions.Read);
        hooks.MapPut("/{id}", async (string id, UpdateWebhookRequest request, UpdateWebhook use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(request with { Id = id }, ct)))
            .WithName("UpdateWebhook").WithSummary("Change an endpoint's `url`, `events`, `description` (fields left out keep their value); `enabled: true` re-enables one a 410 disabled").RequireAuthorization(Permissions.Administer);
        hooks.MapDelete("/{id}", async (string id, RemoveWebhook use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new WebhookIdRequest(id), ct)))
            .WithName("RemoveWebhook").WithSummary("Remove an endpoint (what was still to be delivered to it is cancelled)").RequireAuthorization(Permissions.Administer);
        hooks.MapPost("/{id}/rotate-secret", async (string id, RotateWebhookSecretRequest? request, RotateWebhookSecret use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync((request ?? new RotateWebhookSecretRequest(id)) with { Id = id }, ct)))
            .WithName("RotateWebhookSecret").WithSummary("A new signing secret (returned once); the previous one keeps signing for `overlap` (default 24 h)").RequireAuthorization(Permissions.Administer);
        hooks.MapPost("/{id}/test", async (string id, TestWebhook use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new WebhookIdRequest(id), ct)))
            .WithName("TestWebhook").WithSummary("Send a `webhook.test` event to this endpoint now; the answer is the delivery with its attempt").RequireAuthorization(Permissions.Administer);
        hooks.MapPost("/{id}/replay", async (string id, ReplayWebhookRequest request, ReplayWebhook use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(request with { Id = id }, ct)))
            .WithName("ReplayWebhook").WithSummary("Deliver again the events of a time window (`since`, `until`) or of a `correlation` id that the endpoint's filter takes").RequireAuthorization(Permissions.Administer);
        hooks.MapGet("/{id}/deliveries", async (string id, string? state, int? limit, string? cursor, ListDeliveries use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new ListDeliveriesRequest(Webhook: id, State: state, Limit: limit ?? 50, Cursor: cursor), ct)))
            .WithName("ListWebhookDeliveries").WithSummary("The endpoint's delivery log, newest first, with every attempt").RequireAuthorization(Permissions.Read);

        var deliveries = api.MapGroup("/deliveries").WithTags("webhooks");
        deliveries.MapGet("", async (string? state, string? channel, string? @event, int? limit, string? cursor, ListDeliveries use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new ListDeliveriesRequest(null, channel, state, @event, limit ?? 50, cursor), ct)))
            .WithName("ListDeliveries").WithSummary("Every channel's deliveries, newest first; `state=dead` is the dead-letter list").RequireAuthorization(Permissions.Read);
        deliveries.MapGet("/{id}", async (string id, ShowDelivery use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new WebhookIdRequest(id), ct)))
            .WithName("ShowDelivery").WithSummary("One delivery and its attempts (status, latency, the answer's start)").RequireAuthorization(Permissions.Read);
        deliveries.MapPost("/{id}/redeliver", async (string id, Redeliver use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new WebhookIdRequest(id), ct)))
            .WithName("Redeliver").WithSummary("Deliver the same event to the same channel again (a new delivery)").RequireAuthorization(Permissions.Administer);
        return api;
    }
}
