using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Runbooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>The recovery runbook of this installation, as `lifeboat runbook` writes it.</summary>
public static class RunbookApi
{
    public static RouteGroupBuilder MapRunbookApi(this RouteGroupBuilder api)
    {
        api.MapGet("/runbook", async Task<Results<ContentHttpResult, Ok<Runbook>>> (string? source, string? stack, string? format, GetRunbook use, CancellationToken ct) =>
            {
                // format=json: the runbook's facts and scenarios with the Markdown document, as `lifeboat runbook --json` prints.
                var json = format == "json";
                var runbook = await use.ExecuteAsync(new GetRunbookRequest(source, stack, json ? "md" : format ?? "md"), ct);
                return json ? TypedResults.Ok(runbook) : TypedResults.Text(runbook.Content, runbook.Format == "html" ? "text/html; charset=utf-8" : "text/markdown; charset=utf-8");
            })
            .WithTags("runbook").WithName("GetRunbook")
            .WithSummary("The recovery runbook for this installation (or one source or stack): per scenario the exact commands, the recoverable window, the last proven drill and its RTO, where the keys are; format md (default), html or json")
            .RequireAuthorization(Permissions.Read);
        return api;
    }
}
