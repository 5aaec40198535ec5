using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Drills;
using Lifeboat.Engine.UseCases.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Recovery objectives (RPO and RTO, objective against measured) and the drills that measured them.</summary>
public static class ObjectivesApi
{
    public static RouteGroupBuilder MapObjectivesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/objectives", async (string? source, GetObjectives use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new GetObjectivesRequest(source), ct)))
            .WithTags("objectives").WithName("GetObjectives").WithSummary("Per source: RPO and RTO objectives, the current RPO, the latest drill's RTO, violations").RequireAuthorization(Permissions.Read);

        var drills = api.MapGroup("/drills").WithTags("drills");
        drills.MapGet("", async (string? source, int? limit, string? cursor, ListDrills use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListDrillsRequest(source, limit ?? 50, cursor), ct)))
            .WithName("ListDrills").WithSummary("The drills, newest first: filter by source; page with `limit` and `cursor`").RequireAuthorization(Permissions.Read);
        drills.MapGet("/{id}", async (string id, ShowDrill use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ShowDrillRequest(id), ct)))
            .WithName("GetDrill").WithSummary("A drill's report document (format lifeboat-drill-report, docs/drills.md)").RequireAuthorization(Permissions.Read);
        return api;
    }
}
