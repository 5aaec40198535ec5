using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Health: liveness and readiness (no token), the status of every source, the run history.</summary>
public static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app, RouteGroupBuilder api)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new Liveness("up")))
            .WithName("Liveness").WithSummary("The process is up (no dependency is checked)").WithTags("health").AllowAnonymous();
        app.MapGet("/readyz", async Task<Results<Ok<ReadinessReport>, JsonHttpResult<ReadinessReport>>> (CheckReadiness readiness, CancellationToken ct) =>
            {
                var report = await readiness.ExecuteAsync(new CheckReadinessRequest(), ct);
                return report.Ready ? TypedResults.Ok(report) : TypedResults.Json(report, LifeboatJson.Default.ReadinessReport, statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .WithName("Readiness").WithSummary("The catalog and the repository can be reached (503 when not)").WithTags("health").AllowAnonymous();

        var status = api.MapGroup("").WithTags("status").RequireAuthorization(Permissions.Read);
        status.MapGet("/status", async (string? source, GetStatus use, CallContext call, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new GetStatusRequest(source, TimeSpan.FromSeconds(call.Workspace.Options.Server.StatusCacheSeconds)), ct)))
            .WithName("GetStatus").WithSummary("The health of every source (or one): backup age, failures, WAL archiving, RPO, drills (computed at most Server:StatusCacheSeconds ago; its time is `at`)");
        status.MapGet("/runs", async (string? source, string? kind, int? limit, ListRuns use, CancellationToken ct)
                => TypedResults.Ok(new Page<RunView>((await use.ExecuteAsync(new ListRunsRequest(source, kind, limit ?? 50), ct)).Runs)))
            .WithName("ListRuns").WithSummary("The run history, newest first: backups, restores, verifies, drills, expires, replications");
        return app;
    }
}

/// <summary>The liveness answer.</summary>
public sealed record Liveness(string Status);
