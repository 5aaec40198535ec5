using System.Security.Claims;
using System.Text.Encodings.Web;
using Lifeboat.Engine.Application;
using Lifeboat.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// The dashboard's session: the API token the user pasted at sign-in, kept in an HttpOnly, SameSite=Strict cookie
/// (Secure over HTTPS) and checked on every request exactly as a bearer token is
/// (<see cref="TokenAuthentication.AuthenticateAsync"/>): a revoked or expired token ends the session at once. Only
/// dashboard routes read the cookie — the API keeps asking for <c>Authorization: Bearer</c>, so a cookie never works a
/// state-changing API route (no CSRF there). Not signed in: a redirect to the sign-in page (an htmx request gets
/// <c>HX-Redirect</c>); a role that may not: the 403 page.
/// </summary>
public sealed class DashboardAuthentication : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "Dashboard";
    public const string CookieName = "lifeboat-session";

    /// <summary>The default scheme: the bearer token when one is sent or the path is the API's, else the dashboard's cookie.</summary>
    public const string SelectorName = "Lifeboat";

    public DashboardAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : base(options, logger, encoder)
    {
    }

    /// <summary>The policy of dashboard pages that mirror API routes needing <paramref name="permission"/>.</summary>
    public static string Policy(string permission) => "dashboard:" + permission;

    /// <summary>Where a request is authenticated: the API (and any request with an Authorization header) by bearer token only.</summary>
    public static string SelectScheme(HttpContext http)
        => http.Request.Headers.Authorization.Count > 0 || http.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal) ? TokenAuthentication.SchemeName : SchemeName;

    /// <summary>The session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS, gone when the browser closes.</summary>
    public static CookieOptions CookieOptions(HttpContext http) => new() { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = http.Request.IsHttps, Path = "/", IsEssential = true };

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token))
        {
            return AuthenticateResult.NoResult();
        }

        return await TokenAuthentication.AuthenticateAsync(Context, token, SchemeName, Logger);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var signIn = "/sign-in?return=" + Uri.EscapeDataString(Request.Path + Request.QueryString);
        if (Request.Headers.ContainsKey("HX-Request"))
        {
            // A fragment's refresh after the session ended: htmx follows HX-Redirect with a full page load.
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            Response.Headers["HX-Redirect"] = "/sign-in";
            return Task.CompletedTask;
        }

        Response.Redirect(signIn);
        return Task.CompletedTask;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        return Layout.WriteAsync(Context, Layout.Forbidden(Context, $"Your role ({role}) may not see this page."), StatusCodes.Status403Forbidden);
    }
}

public static class DashboardPolicies
{
    /// <summary>One policy per permission for the dashboard's pages: the cookie's token must hold it (the same rule as the API's).</summary>
    public static AuthorizationBuilder AddDashboardPolicies(this AuthorizationBuilder builder)
    {
        foreach (var permission in Permissions.All)
        {
            builder.AddPolicy(DashboardAuthentication.Policy(permission), p => p
                .AddAuthenticationSchemes(DashboardAuthentication.SchemeName)
                .RequireAuthenticatedUser()
                .RequireAssertion(c => c.User.FindFirstValue(ClaimTypes.Role) is { } role && Permissions.Allows(role, permission)));
        }

        return builder;
    }
}
