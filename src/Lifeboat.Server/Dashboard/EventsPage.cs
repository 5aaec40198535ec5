using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;
using Lifeboat.Engine.UseCases.Sources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// The event log (docs/events.md): the filtered page of <c>ListEvents</c> (<c>GET /api/v1/events</c>), kept live by
/// <c>/events/stream</c> — Server-Sent Events from <c>WatchEvents</c>, the use case of <c>GET /api/v1/events/stream</c>,
/// with the same filters — whose items are the table's rows, rendered here; htmx's SSE extension puts each new one at
/// the top. The stream starts after the newest event the page shows, so nothing between the two is lost.
/// </summary>
internal static class EventsPage
{
    /// <summary>The SSE event name of a row (the extension's <c>sse-swap</c>).</summary>
    private const string RowEvent = "lifeboat-event";

    private static readonly string[] Severities = ["info", "warning", "error", "critical"];

    public static RouteGroupBuilder MapEventsPages(this RouteGroupBuilder dashboard)
    {
        var read = DashboardAuthentication.Policy(Permissions.Read);
        dashboard.MapGet("/events", async (string? type, string? source, string? severity, string? cursor, HttpContext http, ListEvents list, ListSources sources, CancellationToken ct) =>
            {
                (type, source, severity) = (Given(type), Given(source), Given(severity));
                var page = await list.ExecuteAsync(new ListEventsRequest(type, source, severity, null, null, null, 100, Given(cursor)), ct);
                var names = (await sources.ExecuteAsync(new ListSourcesRequest(), ct)).Sources.Select(s => s.Name).ToList();
                var filters = Layout.Query(("type", type), ("source", source), ("severity", severity));
                // Live only on the first page: older pages are history.
                var live = cursor is null;
                var stream = "/events/stream" + Layout.Query(("type", type), ("source", source), ("severity", severity), ("after", page.Items.FirstOrDefault()?.Id));
                return Layout.Render(http, Layout.Page(http, "Events", Html.Of($"""
                    <h1>Events</h1>
                    <form class="filters" method="get" action="/events" role="search">
                    <div><label for="type">Type (e.g. backup.*)</label><input type="text" id="type" name="type" value="{type ?? ""}"></div>
                    <div><label for="source">Source</label>{Layout.Select("source", names, source)}</div>
                    <div><label for="severity">Severity and worse</label>{Layout.Select("severity", Severities, severity)}</div>
                    <div><button type="submit">Filter</button></div>
                    </form>
                    {(live ? Html.Of($"""<p class="muted" id="live">Live: new events appear at the top as they happen.</p>""") : Html.Empty)}
                    <div class="scroll"><table id="events">
                    <thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Severity</th><th scope="col">Source</th><th scope="col">Correlation</th><th scope="col">Data</th></tr></thead>
                    <tbody id="event-rows"{(live ? Html.Of($""" hx-ext="sse" sse-connect="{stream}" sse-swap="{RowEvent}" hx-swap="afterbegin" """) : Html.Empty)}>{page.Items.Select(Row)}</tbody>
                    </table></div>
                    {(page.Next is null ? Html.Empty : Html.Of($"""<p><a id="next" rel="next" href="{"/events" + Layout.Query(("type", type), ("source", source), ("severity", severity), ("cursor", page.Next))}">Older events</a></p>"""))}
                    {(filters.Length == 0 ? Html.Empty : Html.Of($"""<p><a href="/events">All events</a></p>"""))}
                    """)));
            })
            .RequireAuthorization(read);

        dashboard.MapGet("/events/stream", async (string? type, string? source, string? severity, string? after, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, WatchEvents watch, HttpContext http, CancellationToken ct) =>
            {
                // A reconnecting EventSource sends the id of the last row it got; else the stream starts after the page's newest.
                var stream = await watch.ExecuteAsync(new WatchEventsRequest(Given(type), Given(source), Given(severity), Given(lastEventId) ?? Given(after)), ct);
                return TypedResults.ServerSentEvents(Rows(http, stream.Events, ct));
            })
            .RequireAuthorization(read);
        return dashboard;
    }

    private static async IAsyncEnumerable<SseItem<string>> Rows(HttpContext http, IAsyncEnumerable<EventView> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        http.Response.Headers.CacheControl = "no-store";
        await http.Response.StartAsync(cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            yield return new SseItem<string>(Row(e).ToString(), RowEvent) { EventId = e.Id };
        }
    }

    /// <summary>One event as a table row, on one line (an SSE data line).</summary>
    private static Html Row(EventView e)
        => Html.Of($"""<tr data-event="{e.Id}" data-event-type="{e.Type}"><td>{Layout.Time(e.Time)}</td><td class="type">{e.Type}</td><td class="severity">{e.Severity}</td><td class="source">{e.Source ?? ""}</td><td>{e.CorrelationId}</td><td class="data"><code>{e.Data.GetRawText()}</code></td></tr>""");

    private static string? Given(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

}
