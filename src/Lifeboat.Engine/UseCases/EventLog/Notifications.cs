using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Notifications;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <summary>A notification channel as it may be shown: never its password nor its webhook URL.</summary>
/// <param name="Channel">How deliveries name it (<c>email:NAME</c>, <c>chat:NAME</c>).</param>
public sealed record ChannelView(string Name, string Kind, string Channel, string Target, IReadOnlyList<string> To);

public sealed record RouteView(IReadOnlyList<string> Events, string MinSeverity, IReadOnlyList<string> Sources, IReadOnlyList<string> Tenants, IReadOnlyList<string> Channels, TimeSpan QuietPeriod);

/// <summary>The e-mail and chat channels and the routing rules (Events:Channels, Events:Routes).</summary>
public sealed record NotificationsView(IReadOnlyList<ChannelView> Channels, IReadOnlyList<RouteView> Routes);

public sealed record ListNotificationsRequest;

/// <param name="Channel">A channel of Events:Channels.</param>
public sealed record TestNotificationRequest(string Channel);

/// <summary>`notify list`, <c>GET /api/v1/notifications</c>.</summary>
public sealed class ListNotifications(Workspace workspace) : IUseCase<ListNotificationsRequest, NotificationsView>
{
    public Task<NotificationsView> ExecuteAsync(ListNotificationsRequest request, CancellationToken cancellationToken)
    {
        var events = workspace.Options.Events;
        var channels = events.Channels.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new ChannelView(
            c.Key, c.Value.Kind, NotificationRouter.ChannelOf(c.Key, c.Value),
            c.Value.Kind == ChannelKinds.Email ? $"smtp {c.Value.Host}:{c.Value.Port?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default"} ({c.Value.Security}{(c.Value.Username is null ? "" : ", user " + c.Value.Username)})" : $"{c.Value.Kind} incoming webhook ({(c.Value.UrlFile is null ? "URL in the configuration" : "URL in " + c.Value.UrlFile)})",
            c.Value.To)).ToList();
        var routes = events.Routes.Select(r => new RouteView(r.Events.Count == 0 ? ["*"] : r.Events, r.MinSeverity, r.Sources, r.Tenants, r.Channels, r.QuietPeriod)).ToList();
        return Task.FromResult(new NotificationsView(channels, routes));
    }
}

/// <summary>
/// `notify test CHANNEL`, <c>POST /api/v1/notifications/{name}/test</c>: sends a <c>notify.test</c> message to the
/// channel now and answers how it went (the delivery, with its attempt, is in the delivery log; it is not retried).
/// </summary>
public sealed class TestNotification(Workspace workspace, WebhookStore store, Events events, Deliveries deliveries) : IUseCase<TestNotificationRequest, DeliveryView>
{
    public async Task<DeliveryView> ExecuteAsync(TestNotificationRequest request, CancellationToken cancellationToken)
    {
        var channels = workspace.Options.Events.Channels;
        if (string.IsNullOrWhiteSpace(request.Channel) || !channels.TryGetValue(request.Channel.Trim(), out var options))
        {
            var known = channels.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", channels.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.NotFound, $"there is no notification «channel» '{request.Channel}' ({known})", "channels are configured under Events:Channels (docs/configuration.md); webhooks are tested with `lifeboat webhook test ID`");
        }

        var channel = NotificationRouter.ChannelOf(request.Channel.Trim(), options);
        var record = EventRecords.From(events.Envelope(new TestEvent("notify", channel)));
        var delivery = WebhookRouter.New(record, channel, "test", store.Now, new NotificationDetail("test").Json()) with { NextAttempt = null };
        var catalog = await store.CatalogAsync(cancellationToken);
        await catalog.InsertDeliveriesAsync([delivery], [record], cancellationToken);
        await deliveries.AttemptAsync(delivery, retry: false, cancellationToken);
        return await DeliveryView.LoadAsync(catalog, store.Tenant, delivery.Id, cancellationToken);
    }
}
