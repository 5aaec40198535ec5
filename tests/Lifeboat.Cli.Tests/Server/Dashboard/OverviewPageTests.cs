using System.Net;
using System.Text.Json;
using Lifeboat.Engine.Application;
using Microsoft.Playwright;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>The dashboard's sign-in, session and overview in a real chromium against a real server (docs/dashboard.md).</summary>
[Collection(DashboardCollection.Name)]
public sealed class OverviewPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_overview_shows_every_source_and_stack_in_the_state_the_status_api_gives_it_and_refreshes_itself()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var backup = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        Directory.CreateDirectory(cli.Dir.Combine("empty"));
        await cli.Cli.OkAsync("source", "add-files", "never", "--path", cli.Dir.Combine("empty"));
        await cli.Cli.OkAsync("stack", "add", "shop", "--sources", "app,never");
        await using var server = await ServerFixture.StartAsync(cli);
        await using var browser = await DashboardBrowser.StartAsync(server);

        var page = await browser.NewPageAsync();
        await page.GotoAsync("/");
        Assert.EndsWith("/sign-in?return=%2F", page.Url, StringComparison.Ordinal);
        await DashboardBrowser.SignInAsync(page, server.Tokens[Roles.Viewer]);
        Assert.Equal(new Uri(server.Address, "/").ToString(), page.Url);

        var status = await browser.ApiAsync(Roles.Viewer, "/api/v1/status");
        var checks = status.GetProperty("checks").EnumerateArray().ToList();
        string Worst(params string[] sources)
        {
            var states = checks.Where(c => c.TryGetProperty("source", out var s) && sources.Contains(s.GetString())).Select(c => c.GetProperty("state").GetString()!).ToList();
            return states.Contains("critical") ? "critical" : states.Contains("warning") ? "warning" : "healthy";
        }

        Assert.Equal(status.GetProperty("state").GetString(), await page.Locator("#overall").InnerTextAsync());
        foreach (var source in new[] { "app", "never" })
        {
            var row = page.Locator($"#sources tr[data-source='{source}']");
            Assert.Equal(Worst(source), await row.Locator(".state-cell").InnerTextAsync());
        }

        Assert.Equal(Worst("app", "never"), await page.Locator("#stacks tr[data-stack='shop'] .state-cell").InnerTextAsync());
        // A source never backed up is critical in `lifeboat status`: so it is here, in words.
        Assert.Equal("critical", Worst("never"));
        Assert.Contains("no backup yet", await page.Locator("#sources tr[data-source='never']").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains(backup, await page.Locator("#sources tr[data-source='app'] .last-backup").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("not a cluster", await page.Locator("#sources tr[data-source='app'] .wal").InnerTextAsync());
        Assert.Contains("never drilled", await page.Locator("#sources tr[data-source='app'] .rto").InnerTextAsync(), StringComparison.Ordinal);

        // htmx refreshes the section from its fragment every 15 s; the fragment is the section alone, not a page.
        var refreshed = await page.RunAndWaitForResponseAsync(() => Task.CompletedTask, r => r.Url.EndsWith("/fragments/overview", StringComparison.Ordinal), new() { Timeout = 30_000 });
        Assert.Equal(200, refreshed.Status);
        var fragment = await refreshed.TextAsync();
        Assert.StartsWith("<section id=\"overview\"", fragment, StringComparison.Ordinal);
        Assert.DoesNotContain("<html", fragment, StringComparison.Ordinal);
        Assert.Equal(Worst("never"), await page.Locator("#sources tr[data-source='never'] .state-cell").InnerTextAsync());
        browser.AssertClean();
    }

    [Fact]
    public async Task A_bad_token_is_refused_with_a_clear_message_and_a_session_is_an_http_only_strict_cookie_that_the_api_ignores_and_sign_out_ends()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        await using var browser = await DashboardBrowser.StartAsync(server);
        var page = await browser.NewPageAsync();

        await DashboardBrowser.SignInAsync(page, "lbt_not-a-real-token");
        Assert.EndsWith("/sign-in", page.Url, StringComparison.Ordinal);
        Assert.Equal("The token was refused: the token is unknown, expired or revoked.", await page.Locator("#sign-in-error").InnerTextAsync());
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "lifeboat-session");
        Assert.DoesNotContain("lbt_not-a-real-token", await page.ContentAsync(), StringComparison.Ordinal);

        await DashboardBrowser.SignInAsync(page, server.Tokens[Roles.Operator]);
        Assert.Equal("Signed in as operator-token (operator)", await page.Locator(".who").InnerTextAsync());
        var session = Assert.Single(await page.Context.CookiesAsync(), c => c.Name == "lifeboat-session");
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.DoesNotContain(server.Tokens[Roles.Operator], page.Url, StringComparison.Ordinal);

        // The cookie is the dashboard's only: the API still wants a bearer token.
        using (var api = new HttpClient { BaseAddress = server.Address })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status");
            request.Headers.Add("Cookie", $"lifeboat-session={session.Value}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await api.SendAsync(request, Ct)).StatusCode);
        }

        // A form posted without its anti-forgery token is refused, even with the session cookie.
        var forged = await page.APIRequest.PostAsync("/sign-out", new() { Form = page.APIRequest.CreateFormData(), MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        Assert.Contains("anti-forgery token", await forged.TextAsync(), StringComparison.Ordinal);
        Assert.Contains(await page.Context.CookiesAsync(), c => c.Name == "lifeboat-session");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/sign-in");
        Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name == "lifeboat-session");
        await page.GotoAsync("/");
        Assert.Contains("/sign-in", page.Url, StringComparison.Ordinal);

        // A revoked token ends the session at once.
        await DashboardBrowser.SignInAsync(page, server.Tokens[Roles.Viewer]);
        Assert.Equal(new Uri(server.Address, "/").ToString(), page.Url);
        var list = JsonDocument.Parse((await cli.Cli.OkAsync("token", "list", "--json")).Out).RootElement.GetProperty("items");
        await cli.Cli.OkAsync("token", "revoke", list.EnumerateArray().Single(t => t.GetProperty("role").GetString() == Roles.Viewer).GetProperty("id").GetString()!);
        await page.GotoAsync("/");
        Assert.Contains("/sign-in", page.Url, StringComparison.Ordinal);
        browser.AssertClean("/sign-in: Failed to load resource: the server responded with a status of 401 (Unauthorized)");
    }
}
