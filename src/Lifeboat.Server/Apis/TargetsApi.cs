using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Engine.UseCases.Targets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Targets (the primary repository and its replicas) and schedules.</summary>
public static class TargetsApi
{
    public static RouteGroupBuilder MapTargetsApi(this RouteGroupBuilder api)
    {
        var targets = api.MapGroup("/targets").WithTags("targets");
        targets.MapGet("", async (ListTargets use, CancellationToken ct) => TypedResults.Ok(new Page<TargetSummary>((await use.ExecuteAsync(new ListTargetsRequest(), ct)).Targets)))
            .WithName("ListTargets").WithSummary("The primary target and every secondary, with their last replication").RequireAuthorization(Permissions.Read);
        targets.MapPost("", async (AddTargetRequest request, AddTarget use, CancellationToken ct) => TypedResults.Created($"/api/v1/targets/{request.Name}", await use.ExecuteAsync(request, ct)))
            .WithName("AddTarget").WithSummary("Add a secondary target (checked before it is added)").RequireAuthorization(Permissions.Administer);
        targets.MapDelete("/{name}", async (string name, RemoveTarget use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RemoveTargetRequest(name), ct)))
            .WithName("RemoveTarget").WithSummary("Remove a secondary target from the configuration (its data stays where it is)").RequireAuthorization(Permissions.Administer);
        targets.MapPost("/{name}/verify", async (string name, VerifyTarget use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new VerifyTargetRequest(name), ct)))
            .WithName("VerifyTarget").WithSummary("Write, read, list and delete a probe object on a target and report each step").RequireAuthorization(Permissions.Operate);

        api.MapGet("/schedules", async (ListSchedules use, CancellationToken ct) => TypedResults.Ok(new Page<ScheduleView>((await use.ExecuteAsync(new ListSchedulesRequest(), ct)).Schedules)))
            .WithTags("schedules").WithName("ListSchedules").WithSummary("The schedules with their next and last runs").RequireAuthorization(Permissions.Read);
        return api;
    }
}
