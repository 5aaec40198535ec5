using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Schedules: create, replace, remove, and one schedule with its next and missed runs (the list is in TargetsApi).</summary>
public static class SchedulesApi
{
    public static RouteGroupBuilder MapSchedulesApi(this RouteGroupBuilder api)
    {
        var schedules = api.MapGroup("/schedules").WithTags("schedules");
        schedules.MapGet("/{name}", async (string name, int? next, ShowSchedule use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ShowScheduleRequest(name, next ?? 5), ct)))
            .WithName("GetSchedule").WithSummary("One schedule: its settings, the next runs (`next`, 1–100, default 5) and the missed runs").RequireAuthorization(Permissions.Read);
        schedules.MapPost("", async (AddScheduleRequest request, AddSchedule use, CancellationToken ct) => TypedResults.Created($"/api/v1/schedules/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddSchedule").WithSummary("Add a schedule (checked as the configuration loader checks it)").RequireAuthorization(Permissions.Operate);
        schedules.MapPut("/{name}", async (string name, ScheduleSettings settings, UpdateSchedule use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new UpdateScheduleRequest(name, settings), ct)))
            .WithName("UpdateSchedule").WithSummary("Replace every setting of a schedule").RequireAuthorization(Permissions.Operate);
        schedules.MapDelete("/{name}", async (string name, RemoveSchedule use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RemoveScheduleRequest(name), ct)))
            .WithName("RemoveSchedule").WithSummary("Remove a schedule from the configuration (its run history stays)").RequireAuthorization(Permissions.Operate);
        return api;
    }
}
