using System.Text.Json;
using Microsoft.Playwright;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>
/// Debian's chromium (/usr/bin/chromium), driven by Playwright, headless — never a downloaded browser. Missing: the test
/// skips, and fails when CI is set. Every page it opens records console errors and failed requests, which
/// <see cref="AssertClean"/> checks (a CSP violation is a console error).
/// </summary>
internal sealed class DashboardBrowser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly ServerFixture _server;
    private readonly List<string> _problems = [];

    private DashboardBrowser(IPlaywright playwright, IBrowser browser, ServerFixture server)
    {
        _playwright = playwright;
        _browser = browser;
        _server = server;
    }

    public static async Task<DashboardBrowser> StartAsync(ServerFixture server)
    {
        Peers.Require(File.Exists(Chromium), $"chromium ({Chromium})");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Playwright.CreateAsync();
        // --no-sandbox: the tests run as root here, where chromium's sandbox refuses to start.
        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        return new DashboardBrowser(playwright, browser, server);
    }

    /// <summary>A fresh browser profile (no cookies) with one page, watched for console errors and failed requests.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await _browser.NewContextAsync(new() { BaseURL = _server.Address.ToString() });
        // A loaded two-core machine running the whole suite is slow; a real wait is still bounded.
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                lock (_problems)
                {
                    _problems.Add($"console error on {page.Url}: {m.Text}");
                }
            }
        };
        page.RequestFailed += (_, r) =>
        {
            // Leaving a page cancels its open event stream: that is not a failure.
            if (r.Failure is not "net::ERR_ABORTED")
            {
                lock (_problems)
                {
                    _problems.Add($"request failed: {r.Method} {r.Url}: {r.Failure}");
                }
            }
        };
        return page;
    }

    /// <summary>A new page signed in with the token of <paramref name="role"/> through the sign-in form, on the overview.</summary>
    public async Task<IPage> SignedInAsync(string role)
    {
        var page = await NewPageAsync();
        await SignInAsync(page, _server.Tokens[role]);
        return page;
    }

    public static async Task SignInAsync(IPage page, string token)
    {
        await page.GotoAsync("/sign-in");
        await page.GetByLabel("API token").FillAsync(token);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }

    /// <summary>No console error and no failed request so far, but the <paramref name="expected"/> ones (e.g. a page answered 401 on purpose).</summary>
    public void AssertClean(params string[] expected)
    {
        lock (_problems)
        {
            var unexpected = _problems.Where(p => !expected.Any(e => p.Contains(e, StringComparison.Ordinal))).ToList();
            Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
        }
    }

    /// <summary>GET <paramref name="path"/> of the API with the token of <paramref name="role"/>, as JSON.</summary>
    public async Task<JsonElement> ApiAsync(string role, string path)
    {
        using var client = _server.Client(role);
        return JsonDocument.Parse(await client.GetStringAsync(new Uri(path, UriKind.Relative), TestContext.Current.CancellationToken)).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>The browser tests run one after another: each starts a chromium, and several at once starve a small machine.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection
{
    public const string Name = "dashboard browser";
}
