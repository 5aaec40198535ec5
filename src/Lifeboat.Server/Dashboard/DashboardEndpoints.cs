using Lifeboat.Core;
using Lifeboat.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// The web dashboard (docs/dashboard.md): server-rendered pages over the same use cases as the API, htmx fragments
/// that refresh them, sign-in with an API token. Every page names the permission of the API route it mirrors.
/// Nothing here is in the OpenAPI document: it is HTML for people, not the API.
/// </summary>
public static class DashboardEndpoints
{
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapDashboardAssets();
        var dashboard = app.MapGroup("").ExcludeFromDescription().AddEndpointFilter(ErrorPages);
        MapSignIn(dashboard);
        dashboard.MapOverview();
        dashboard.MapBackupsPages();
        dashboard.MapApprovalsPages();
        dashboard.MapEventsPages();
        return app;
    }

    /// <summary>A Lifeboat error on a page is a page (its message and hint, the API's status), never a problem document.</summary>
    private static async ValueTask<object?> ErrorPages(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (LifeboatException ex) when (!context.HttpContext.Response.HasStarted)
        {
            var http = context.HttpContext;
            return Layout.Render(http, Layout.Error(http, ex, CallScope.CorrelationId(http)), Problems.Status(ex.Code));
        }
    }

    private static void MapSignIn(RouteGroupBuilder dashboard)
    {
        dashboard.MapGet("/sign-in", (string? @return, HttpContext http)
                => Layout.SignedIn(http) ? Results.Redirect(LocalPath(@return)) : Layout.Render(http, SignInPage(http, @return, null)))
            .AllowAnonymous();

        dashboard.MapPost("/sign-in", async (HttpContext http) =>
            {
                if (!await Layout.ValidateCsrfAsync(http))
                {
                    return Layout.Render(http, Layout.CsrfRefused(http), StatusCodes.Status400BadRequest);
                }

                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                var token = form["token"].ToString().Trim();
                var back = form["return"].ToString();
                if (token.Length == 0)
                {
                    return Layout.Render(http, SignInPage(http, back, "Paste an API token (it starts with lbt_). `lifeboat token create --name NAME --role ROLE` makes one."), StatusCodes.Status400BadRequest);
                }

                var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lifeboat.Server.Dashboard");
                var result = await TokenAuthentication.AuthenticateAsync(http, token, DashboardAuthentication.SchemeName, logger);
                if (!result.Succeeded)
                {
                    return Layout.Render(http, SignInPage(http, back, $"The token was refused: {result.Failure?.Message ?? "it is not valid"}."), StatusCodes.Status401Unauthorized);
                }

                http.Response.Cookies.Append(DashboardAuthentication.CookieName, token, DashboardAuthentication.CookieOptions(http));
                return Results.Redirect(LocalPath(back));
            })
            .AllowAnonymous();

        dashboard.MapPost("/sign-out", async (HttpContext http) =>
            {
                if (!await Layout.ValidateCsrfAsync(http))
                {
                    return Layout.Render(http, Layout.CsrfRefused(http), StatusCodes.Status400BadRequest);
                }

                http.Response.Cookies.Delete(DashboardAuthentication.CookieName, DashboardAuthentication.CookieOptions(http));
                return Results.Redirect("/sign-in");
            })
            .AllowAnonymous();
    }

    /// <summary>Where to go after signing in: a path on this server, never another site (<c>//host</c>, <c>/\host</c>).</summary>
    private static string LocalPath(string? path)
        => path is { Length: > 0 } p && p[0] == '/' && (p.Length == 1 || (p[1] != '/' && p[1] != '\\')) ? p : "/";

    private static Html SignInPage(HttpContext http, string? back, string? error) => Layout.Page(http, "Sign in", Html.Of($"""
        <h1>Sign in</h1>
        {(error is null ? Html.Empty : Html.Of($"""<p class="error" role="alert" id="sign-in-error">{error}</p>"""))}
        <form method="post" action="/sign-in">
        {Layout.Csrf(http)}
        <input type="hidden" name="return" value="{LocalPath(back)}">
        <label for="token">API token</label>
        <input type="password" id="token" name="token" autocomplete="off" required size="50">
        <button type="submit">Sign in</button>
        </form>
        <p class="muted">The token stays in an HttpOnly cookie of this browser until you sign out or close it; it is checked on every page as the API checks it.</p>
        """));
}
