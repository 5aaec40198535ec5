using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>The event log (docs/events.md): filtered pages, and the live stream as Server-Sent Events.</summary>
public static class EventsApi
{
    public static RouteGroupBuilder MapEventsApi(this RouteGroupBuilder api)
    {
        var events = api.MapGroup("/events").WithTags("events").RequireAuthorization(Permissions.Read);
        events.MapGet("", async (string? type, string? source, string? severity, string? since, string? until, string? correlation, int? limit, string? cursor, ListEvents use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new ListEventsRequest(type, source, severity, since, until, correlation, limit ?? 100, cursor), ct)))
            .WithName("ListEvents").WithSummary("The event log, newest first: by type pattern, source, severity (and worse), time window, correlation id");
        events.MapGet("/stream", async (string? type, string? source, string? severity, [FromHeader(Name = "Last-Event-ID")] string? lastEventId, WatchEvents use, HttpContext http, CancellationToken ct) =>
            {
                var stream = await use.ExecuteAsync(new WatchEventsRequest(type, source, severity, lastEventId), ct);
                return TypedResults.ServerSentEvents(Items(http, stream.Events, ct));
            })
            .WithName("StreamEvents").WithSummary("Events as they happen, as Server-Sent Events (`event: <type>`, `id: <event id>`; reconnect with `Last-Event-ID` to get what was missed)");
        return api;
    }

    /// <summary>The stream's items; the headers go out at once (a client knows it is connected before the first event).</summary>
    private static async IAsyncEnumerable<SseItem<EventView>> Items(HttpContext http, IAsyncEnumerable<EventView> events, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await http.Response.StartAsync(cancellationToken);
        await http.Response.Body.FlushAsync(cancellationToken);
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            yield return new SseItem<EventView>(e, e.Type) { EventId = e.Id };
        }
    }
}
