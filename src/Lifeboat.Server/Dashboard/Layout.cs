using System.Globalization;
using System.Security.Claims;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Server.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Server.Dashboard;

/// <summary>The page shell (header, navigation, who is signed in, sign-out), the error pages, and small shared pieces.</summary>
internal static class Layout
{
    /// <summary>Scripts and styles only from this server; no inline script or style; forms post only here; never framed.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>The pages of the navigation bar.</summary>
    private static readonly (string Name, string Path)[] Nav = [("Overview", "/"), ("Backups", "/backups"), ("Approvals", "/approvals"), ("Events", "/events")];

    public static bool SignedIn(HttpContext http) => http.User.Identity?.IsAuthenticated == true && http.User.Identity.AuthenticationType == DashboardAuthentication.SchemeName;

    /// <summary>Whether the signed-in role holds <paramref name="permission"/> (to show or hide a control; the server checks again).</summary>
    public static bool May(HttpContext http, string permission) => http.User.FindFirstValue(ClaimTypes.Role) is { } role && Permissions.Allows(role, permission);

    /// <summary>A whole page.</summary>
    public static Html Page(HttpContext http, string title, Html body)
    {
        var header = SignedIn(http)
            ? Html.Of($"""
                <header>
                <a class="brand" href="/">Lifeboat</a>
                <nav aria-label="Main"><ul>{Nav.Select(n => Html.Of($"""<li><a href="{n.Path}">{n.Name}</a></li>"""))}</ul></nav>
                <span class="who">Signed in as {http.User.Identity!.Name} ({http.User.FindFirstValue(ClaimTypes.Role)})</span>
                <form method="post" action="/sign-out">{Csrf(http)}<button type="submit">Sign out</button></form>
                </header>
                """)
            : Html.Of($"""<header><a class="brand" href="/">Lifeboat</a></header>""");
        return Html.Of($$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}'>
            <title>{{title}} · Lifeboat</title>
            <link rel="icon" href="{{DashboardAssets.Url("favicon.svg")}}" type="image/svg+xml">
            <link rel="stylesheet" href="{{DashboardAssets.Url("dashboard.css")}}">
            <script src="{{DashboardAssets.Url("htmx.min.js")}}" defer></script>
            <script src="{{DashboardAssets.Url("htmx-ext-sse.min.js")}}" defer></script>
            </head>
            <body>
            {{header}}
            <main id="main">
            {{body}}
            </main>
            </body>
            </html>
            """);
    }

    /// <summary>The hidden field of the antiforgery token every form posts (checked by <see cref="ValidateCsrfAsync"/>).</summary>
    public static Html Csrf(HttpContext http)
    {
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return Html.Of($"""<input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}">""");
    }

    /// <summary>Whether the form carries a valid antiforgery token for this browser and user.</summary>
    public static async Task<bool> ValidateCsrfAsync(HttpContext http)
    {
        try
        {
            await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    public static Html Forbidden(HttpContext http, string why) => Page(http, "Forbidden", Html.Of($"""
        <h1>403 — Forbidden</h1>
        <p class="error" role="alert">{why}</p>
        <p>docs/api.md lists what each role may do; sign in with a token whose role may.</p>
        """));

    public static Html CsrfRefused(HttpContext http) => Page(http, "Refused", Html.Of($"""
        <h1>400 — The form was refused</h1>
        <p class="error" role="alert">The form did not carry a valid anti-forgery token (it is stale or did not come from this site). Nothing was changed.</p>
        <p><a href="/">Back to the overview</a> and try again.</p>
        """));

    /// <summary>A Lifeboat error as a page: its message and hint, the status the API would answer.</summary>
    public static Html Error(HttpContext http, LifeboatException error, string correlationId)
    {
        var view = ErrorView.From(error, FieldText.AsJsonField);
        return Page(http, "Error", Html.Of($"""
            <h1>{Problems.Status(error.Code)} — {view.Code}</h1>
            <p class="error" role="alert">{view.Message}</p>
            {(view.Hint is { } hint ? Html.Of($"<p>Hint: {hint}</p>") : Html.Empty)}
            <p class="muted">Correlation id {correlationId}</p>
            """));
    }

    public static IResult Render(HttpContext http, Html html, int status = StatusCodes.Status200OK)
    {
        Headers(http);
        return TypedResults.Content(html.ToString(), "text/html; charset=utf-8", statusCode: status);
    }

    /// <summary>Outside an endpoint (the authentication handler's 403).</summary>
    public static async Task WriteAsync(HttpContext http, Html html, int status)
    {
        Headers(http);
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync(html.ToString(), http.RequestAborted);
    }

    private static void Headers(HttpContext http)
    {
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
    }

    /// <summary>A health state in words (as `lifeboat status` prints it), with a mark and colour that only repeat it.</summary>
    public static Html State(HealthState state)
    {
        var text = state.ToString().ToLowerInvariant();
        return Html.Of($"""<span class="state state-{text}">{text}</span>""");
    }

    public static string Duration(double seconds) => seconds switch
    {
        < 120 => $"{seconds.ToString("0.#", CultureInfo.InvariantCulture)} s",
        < 7200 => $"{(seconds / 60).ToString("0.#", CultureInfo.InvariantCulture)} min",
        < 172_800 => $"{(seconds / 3600).ToString("0.#", CultureInfo.InvariantCulture)} h",
        _ => $"{(seconds / 86_400).ToString("0.#", CultureInfo.InvariantCulture)} d",
    };

    /// <summary>A filter's drop-down: "all" (empty) and the options, <paramref name="selected"/> chosen.</summary>
    public static Html Select(string name, IEnumerable<string> options, string? selected) => Html.Of($"""
        <select id="{name}" name="{name}"><option value="">all</option>{options.Select(o => Html.Of($"""<option value="{o}"{(o == selected ? Html.Of($" selected") : Html.Empty)}>{o}</option>"""))}</select>
        """);

    /// <summary>A query string of the given parameters that have a value, each escaped (empty when none has).</summary>
    public static string Query(params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return given.Count == 0 ? "" : "?" + string.Join("&", given);
    }

    public static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
