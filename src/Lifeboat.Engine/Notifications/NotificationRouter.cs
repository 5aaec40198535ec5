using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.UseCases.EventLog;

namespace Lifeboat.Engine.Notifications;

/// <summary>What a notification delivery is: an incident's first alert, a reminder, its resolution, a plain event, a test.</summary>
/// <param name="Kind">alert, reminder, resolved, event or test.</param>
/// <param name="OpenedType">The type of the event that opened the incident.</param>
/// <param name="Suppressed">Repeats held back since the last message.</param>
public sealed record NotificationDetail(string Kind, string? Incident = null, string? OpenedType = null, DateTimeOffset? Opened = null, int Suppressed = 0)
{
    public string Json() => JsonSerializer.Serialize(this, LifeboatJson.Compact.NotificationDetail);

    public static NotificationDetail Parse(string? json) => json is null ? new("event") : JsonSerializer.Deserialize(json, LifeboatJson.Compact.NotificationDetail) ?? new("event");
}

/// <summary>
/// The routing rules (Events:Routes) for the e-mail and chat channels (Events:Channels): an event goes to the channels
/// of every rule it matches (type patterns, at least the severity, the sources and tenants named). An event that
/// opens an incident (<see cref="Incidents"/>) is sent once; repeats within the quiet period are held back and counted,
/// and after it one reminder says how many there were. The event that resolves an open incident sends a "resolved"
/// message to the channels that got the alert, whatever the rules say of it. The incident's state is written with the
/// deliveries, in the dispatch transaction.
/// </summary>
public sealed class NotificationRouter : IDeliveryRouter
{
    public const string ChannelPrefixEmail = "email:";
    public const string ChannelPrefixChat = "chat:";

    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, IncidentRecord?> _incidents = new(StringComparer.Ordinal);

    public NotificationRouter(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public static string ChannelOf(string name, ChannelOptions channel) => (channel.Kind == ChannelKinds.Email ? ChannelPrefixEmail : ChannelPrefixChat) + name;

    public async Task<Routed> RouteAsync(EventRecord e, CancellationToken cancellationToken)
    {
        var options = _workspace.OptionsOrEmpty.Events;
        if (options.Routes.Count == 0 || e.Type is "webhook.test" or "notify.test")
        {
            return Routed.Nothing;
        }

        var matching = options.Routes.Where(r => Matches(r, e)).ToList();
        var channels = matching.SelectMany(r => r.Channels).Distinct(StringComparer.Ordinal)
            .Where(options.Channels.ContainsKey).Select(c => ChannelOf(c, options.Channels[c])).ToList();
        var role = Incidents.Of(e);
        if (role is null)
        {
            return new Routed(Deliver(e, channels, new NotificationDetail("event")));
        }

        var incident = await IncidentAsync(e.Tenant, role.Key, cancellationToken);
        var open = incident is { Resolved: null };
        if (!role.Opens)
        {
            if (!open)
            {
                return new Routed(Deliver(e, channels, new NotificationDetail("event")));
            }

            var resolved = incident! with { Resolved = e.Time, LastEvent = e.Id, LastNotified = e.Time };
            _incidents[role.Key] = resolved;
            var detail = new NotificationDetail("resolved", role.Key, incident.Type, incident.Opened, incident.Suppressed);
            return new Routed(Deliver(e, Channels(incident), detail), [resolved]);
        }

        if (channels.Count == 0)
        {
            return Routed.Nothing;
        }

        if (!open)
        {
            var opened = new IncidentRecord
            {
                Tenant = e.Tenant, Key = role.Key, Type = e.Type, Source = e.Source, Opened = e.Time, OpenedEvent = e.Id, LastEvent = e.Id,
                LastNotified = e.Time, Channels = JsonSerializer.Serialize(channels, LifeboatJson.Compact.IReadOnlyListString),
            };
            _incidents[role.Key] = opened;
            return new Routed(Deliver(e, channels, new NotificationDetail("alert", role.Key, e.Type, e.Time)), [opened]);
        }

        var quiet = matching.Min(r => r.QuietPeriod);
        if (e.Time - incident!.LastNotified < quiet)
        {
            var held = incident with { Suppressed = incident.Suppressed + 1, LastEvent = e.Id };
            _incidents[role.Key] = held;
            return new Routed([], [held]);
        }

        var all = Channels(incident).Union(channels, StringComparer.Ordinal).ToList();
        var reminded = incident with { Suppressed = 0, LastEvent = e.Id, LastNotified = e.Time, Channels = JsonSerializer.Serialize(all, LifeboatJson.Compact.IReadOnlyListString) };
        _incidents[role.Key] = reminded;
        return new Routed(Deliver(e, all, new NotificationDetail("reminder", role.Key, incident.Type, incident.Opened, incident.Suppressed)), [reminded]);
    }

    private static bool Matches(RouteOptions route, EventRecord e)
        => EventPatterns.MatchesAny(route.Events, e.Type)
           && e.SeverityRank >= (int)(EventRecords.ParseSeverity(route.MinSeverity) ?? EventSeverity.Warning)
           && (route.Sources.Count == 0 || (e.Source is not null && route.Sources.Contains(e.Source, StringComparer.Ordinal)))
           && (route.Tenants.Count == 0 || route.Tenants.Contains(e.Tenant, StringComparer.Ordinal));

    private static IReadOnlyList<string> Channels(IncidentRecord incident) => JsonSerializer.Deserialize(incident.Channels, LifeboatJson.Compact.IReadOnlyListString) ?? [];

    private List<DeliveryRecord> Deliver(EventRecord e, IEnumerable<string> channels, NotificationDetail detail)
        => channels.Select(c => WebhookRouter.New(e, c, "event", _time.GetUtcNow(), detail.Json())).ToList();

    private async Task<IncidentRecord?> IncidentAsync(string tenant, string key, CancellationToken cancellationToken)
    {
        // The incidents this pass changed are ahead of the catalog until the dispatch commits.
        if (!_incidents.TryGetValue(key, out var incident))
        {
            incident = await (await _catalog.OpenAsync(cancellationToken)).IncidentAsync(tenant, key, cancellationToken);
            _incidents[key] = incident;
        }

        return incident;
    }
}
