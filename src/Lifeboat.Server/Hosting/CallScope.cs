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
