using System.Text.Json;
using System.Text.RegularExpressions;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>Every page of the dashboard, for every role, at a phone's width and a laptop's (issue 17).</summary>
[Collection(DashboardCollection.Name)]
public sealed partial class EveryPageTests
{
    /// <summary>When set, the admin's pages at 1280 px are saved there as PNG (the screenshots of docs/dashboard.md).</summary>
    private const string ScreenshotsVariable = "LIFEBOAT_DASHBOARD_SCREENSHOTS";

    [Fact]
    public async Task Every_page_loads_for_every_role_with_no_console_error_or_failed_request_and_no_horizontal_scroll_at_390_and_1280_px()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var backup = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        Directory.CreateDirectory(cli.Dir.Combine("uploads"));
        await cli.Cli.OkAsync("source", "add-files", "uploads", "--path", cli.Dir.Combine("uploads"));
        await cli.Cli.OkAsync("stack", "add", "shop", "--sources", "app,uploads");
        await using var server = await ServerFixture.StartAsync(cli);
        await cli.Cli.OkAsync("approvals", "policy", "set", "backup.forget", "--approvals", "1", "--role", "admin");
        var asked = await cli.Cli.RunAsync("forget", backup);
        Assert.True(asked.ExitCode == 4, asked.Error);
        var approval = ApprovalId().Match(asked.Error).Groups[1].Value;
        await using var browser = await DashboardBrowser.StartAsync(server);
        var pages = new (string Name, string Path)[]
        {
            ("overview", "/"), ("backups", "/backups"), ("backup", $"/backups/{backup}"), ("approvals", "/approvals"), ("approval", $"/approvals/{approval}"), ("events", "/events"),
        };
        var screenshots = Environment.GetEnvironmentVariable(ScreenshotsVariable);

        foreach (var role in Roles.All)
        {
            var page = await browser.SignedInAsync(role);
            foreach (var width in new[] { 390, 1280 })
            {
                await page.SetViewportSizeAsync(width, 900);
                foreach (var (name, path) in pages)
                {
                    var response = await page.GotoAsync(path);
                    Assert.True(response!.Status == 200, $"{role} got {response.Status} for {path}");
                    Assert.Equal(role, await page.EvaluateAsync<string>("() => document.querySelector('.who').textContent.match(/\\((\\w+)\\)$/)[1]"));
                    var (scroll, inner) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("() => window.innerWidth"));
                    Assert.True(scroll <= inner, $"{path} scrolls sideways at {width} px for {role}: {scroll} px wide");
                    if (screenshots is { Length: > 0 } && role == Roles.Admin && width == 1280)
                    {
                        Directory.CreateDirectory(screenshots);
                        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, $"dashboard-{name}.png"), FullPage = true });
                    }
                }
            }

            await page.Context.CloseAsync();
        }

        browser.AssertClean();
    }

    [GeneratedRegex(@"approval request (apr_[A-Za-z0-9_-]+)")]
    private static partial Regex ApprovalId();
}
