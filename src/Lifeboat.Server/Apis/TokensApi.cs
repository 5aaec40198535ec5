using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Audit;
using Lifeboat.Engine.UseCases.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>API tokens (the secret is returned once, by the POST) and the audit trail.</summary>
public static class TokensApi
{
    public static RouteGroupBuilder MapTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("tokens");
        tokens.MapGet("", async (bool? all, ListTokens use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListTokensRequest(all ?? false), ct)))
            .WithName("ListTokens").WithSummary("The tenant's tokens (never their secrets)").RequireAuthorization(Permissions.ReadAudit);
        tokens.MapPost("", async (CreateTokenRequest request, CreateToken use, CancellationToken ct) => TypedResults.Created("/api/v1/tokens", await use.ExecuteAsync(request, ct)))
            .WithName("CreateToken").WithSummary("Create a token; its secret (`token`) is in this answer only").RequireAuthorization(Permissions.Administer);
        tokens.MapDelete("/{id}", async (string id, RevokeToken use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RevokeTokenRequest(id), ct)))
            .WithName("RevokeToken").WithSummary("Revoke a token: it stops working at once").RequireAuthorization(Permissions.Administer);

        api.MapGet("/audit", async (string? since, string? until, string? actor, string? action, int? limit, string? cursor, ListAudit use, CancellationToken ct)
                => TypedResults.Ok(await use.ExecuteAsync(new ListAuditRequest(since, until, actor, action, limit ?? 100, cursor), ct)))
            .WithTags("audit").WithName("ListAudit").WithSummary("The audit trail, newest first: every mutating call, who made it and how it ended").RequireAuthorization(Permissions.ReadAudit);
        return api;
    }
}
