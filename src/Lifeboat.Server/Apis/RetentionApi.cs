using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Retention;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>Retention: every source's policy, setting one (shortening passes the approval gate), and the expire preview.</summary>
public static class RetentionApi
{
    public static RouteGroupBuilder MapRetentionApi(this RouteGroupBuilder api)
    {
        var retention = api.MapGroup("/retention").WithTags("retention");
        retention.MapGet("", async (ListRetention use, CancellationToken ct) => TypedResults.Ok(new Page<SourceRetention>((await use.ExecuteAsync(new ListRetentionRequest(), ct)).Sources)))
            .WithName("ListRetention").WithSummary("Every source's retention policy and PITR window, with the targets that override it").RequireAuthorization(Permissions.Read);
        retention.MapPut("/{name}", async (string name, RetentionSettings settings, SetRetention use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new SetRetentionRequest(name, settings), ct)))
            .WithName("SetRetention").WithSummary("Replace a source's retention policy (shortening it passes the approval gate)").RequireAuthorization(Permissions.Administer);
        retention.MapGet("/{name}/preview", async (string name, ExpireBackups use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ExpireBackupsRequest(name, DryRun: true), ct)))
            .WithName("PreviewExpire").WithSummary("What expire would delete now on every target, and why (a dry run: nothing is deleted)").RequireAuthorization(Permissions.Read);
        return api;
    }
}
