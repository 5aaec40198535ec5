using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Maintenance;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>
/// Maintenance mode (docs/api.md "Maintenance mode and locks"): while a source (or every source) is in maintenance its
/// scheduled jobs are skipped and writes to it answer 503 with <c>Retry-After</c> when the end is known.
/// </summary>
public static class MaintenanceApi
{
    public static RouteGroupBuilder MapMaintenanceApi(this RouteGroupBuilder api)
    {
        var maintenance = api.MapGroup("/maintenance").WithTags("maintenance");
        maintenance.MapGet("", async (GetMaintenance use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new GetMaintenanceRequest(), ct)))
            .WithName("GetMaintenance").WithSummary("The maintenance windows in force, the global one first").RequireAuthorization(Permissions.Read);
        maintenance.MapPost("", async (EnterMaintenanceRequest request, EnterMaintenance use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(request, ct)))
            .WithName("EnterMaintenance").WithSummary("Put a `source` (or, without one, every source) in maintenance, for `duration` (2h) or until it is left").RequireAuthorization(Permissions.Administer);
        maintenance.MapDelete("", async (string? source, LeaveMaintenance use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new LeaveMaintenanceRequest(source), ct)))
            .WithName("LeaveMaintenance").WithSummary("End the maintenance of `source` (without it: the global one) now").RequireAuthorization(Permissions.Administer);
        return api;
    }
}
