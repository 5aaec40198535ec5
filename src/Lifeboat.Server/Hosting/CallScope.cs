using System.Security.Claims;
using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// Makes every request one call of the application layer: its workspace (before authentication, which reads the
/// catalog), its correlation id (the client's <c>X-Correlation-Id</c> when it sends a sane one, echoed back), and —
/// after authentication — its actor (the token's name, id, role and the remote address).
/// </summary>
public static class CallScope
{
    public const string CorrelationHeader = "X-Correlation-Id";

    public static string CorrelationId(HttpContext http) => http.RequestServices.GetService<CallContext>()?.CorrelationId ?? http.TraceIdentifier;

    /// <summary>Before authentication: the workspace and the correlation id.</summary>
    public static IApplicationBuilder UseCallWorkspace(this IApplicationBuilder app, Func<Workspace> workspace) => app.Use(async (http, next) =>
    {
        var call = http.RequestServices.GetRequiredService<CallContext>();
        if (http.Request.Headers.TryGetValue(CorrelationHeader, out var given) && given.ToString() is { Length: > 0 and <= 64 } id && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            call.CorrelationId = id;
        }

        // At the start of the response (the exception handler clears headers set earlier, not these callbacks).
        http.Response.OnStarting(() =>
        {
            http.Response.Headers[CorrelationHeader] = call.CorrelationId;
            return Task.CompletedTask;
        });
        call.Workspace = workspace();
        // Every log line of the request (ASP.NET Core's too) carries the call's correlation id.
        using var scope = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lifeboat.Server").BeginScope(new CorrelationScope(call.CorrelationId));
        await next(http);
    });

    /// <summary>
    /// Right after authentication: the call moves into the workspace of its token's tenant (docs/tenants.md) — never
    /// one a parameter names. Nothing of the request's scope has been made for the server's workspace before this (the
    /// token was looked up in a scope of its own). A tenant that is gone, or being removed, has no valid token: 401.
    /// A suspended tenant's writes are refused here, whatever the route (423, <see cref="Core.ErrorCode.Suspended"/>);
    /// the use cases refuse them too, for the command line and the scheduler.
    /// </summary>
    public static IApplicationBuilder UseCallTenant(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var tenant = http.User.FindFirstValue(TokenAuthentication.TenantClaim);
        if (tenant is null or Workspace.DefaultName)
        {
            await next(http);
            return;
        }

        var call = http.RequestServices.GetRequiredService<CallContext>();
        var host = call.Workspace;
        var time = http.RequestServices.GetRequiredService<TimeProvider>();
        var record = await TenantRegistry.FindAsync(host, tenant, time, http.RequestAborted);
        if (record is null or { State: Catalog.TenantRecord.Removing })
        {
            http.User = new ClaimsPrincipal(new ClaimsIdentity());
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, Core.ErrorCode.Usage, "the token is unknown, expired or revoked", "ask an administrator of your tenant for a token");
            return;
        }

        call.Workspace = TenantWorkspaces.Open(host, tenant);
        http.RequestServices.GetRequiredService<ApiCallCounter>().Count(tenant, time.GetUtcNow());
        if (record.State != Catalog.TenantRecord.Active && !HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method) && !HttpMethods.IsOptions(http.Request.Method))
        {
            var refusal = TenantGate.Refusal(record, $"{http.Request.Method} {http.Request.Path}");
            await Problems.WriteAsync(http, Problems.Status(refusal.Code), refusal.Code, refusal.Message, refusal.Hint);
            return;
        }

        await next(http);
    });

    /// <summary>After authentication: who is calling.</summary>
    public static IApplicationBuilder UseCallActor(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var call = http.RequestServices.GetRequiredService<CallContext>();
        var remote = http.Connection.RemoteIpAddress?.ToString();
        var user = http.User;
        call.Actor = user.Identity?.IsAuthenticated == true
            ? new Actor(user.FindFirstValue(TokenAuthentication.KindClaim) ?? "token", user.Identity.Name ?? "?", user.FindFirstValue(ClaimTypes.Role), user.FindFirstValue(TokenAuthentication.TokenIdClaim), remote)
            : new Actor("anonymous", "anonymous", RemoteAddress: remote);
        await next(http);
    });
}
