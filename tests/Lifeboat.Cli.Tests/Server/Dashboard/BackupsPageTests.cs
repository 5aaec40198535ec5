using System.Text.Json;
using Lifeboat.Engine.Application;
using Microsoft.Playwright;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>The backups pages in a real chromium: the API's filters and cursor, the detail, the download by role.</summary>
[Collection(DashboardCollection.Name)]
public sealed class BackupsPageTests
{
    private const string Evil = "<img src=x onerror=alert(1)>";

    [Fact]
    public async Task The_backups_list_filters_by_source_and_kind_pages_with_the_cursor_and_the_detail_shows_data_as_text()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var app = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            File.WriteAllText(Path.Combine(cli.Source, $"n{i}.txt"), new string('n', 100 * (i + 1)));
            app.Add(JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!);
        }

        // A path with markup in its name: shown as text on the detail page, never run.
        var odd = cli.Dir.Combine(Evil);
        Directory.CreateDirectory(odd);
        File.WriteAllText(Path.Combine(odd, "a.txt"), "a");
        await cli.Cli.OkAsync("source", "add-files", "other", "--path", odd);
        var other = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "other", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        await using var server = await ServerFixture.StartAsync(cli);
        await using var browser = await DashboardBrowser.StartAsync(server);
        var page = await browser.SignedInAsync(Roles.Viewer);

        await page.GetByRole(AriaRole.Link, new() { Name = "Backups", Exact = true }).ClickAsync();
        Assert.Equal(await Ids(browser, "/api/v1/backups"), await RowIds(page));
        Assert.Equal(3, (await RowIds(page)).Count);

        await page.GetByLabel("Source").SelectOptionAsync("app");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync("**/backups?source=app&kind=");
        Assert.Equal(Enumerable.Reverse(app), await RowIds(page));
        Assert.Equal(await Ids(browser, "/api/v1/backups?source=app"), await RowIds(page));

        await page.GotoAsync("/backups?kind=database");
        Assert.Empty(await RowIds(page));
        Assert.Equal("No backup matches.", await page.Locator("#no-backups").InnerTextAsync());

        // The API's cursor: one backup a page, newest first, to the end.
        await page.GotoAsync("/backups?limit=1");
        var seen = new List<string>();
        while (true)
        {
            seen.AddRange(await RowIds(page));
            if (await page.Locator("#next").CountAsync() == 0)
            {
                break;
            }

            await page.Locator("#next").ClickAsync();
        }

        Assert.Equal(await Ids(browser, "/api/v1/backups"), seen);

        await page.GotoAsync("/backups");
        await page.GetByRole(AriaRole.Link, new() { Name = other }).ClickAsync();
        Assert.Equal($"Backup {other}", await page.Locator("h1").InnerTextAsync());
        Assert.Contains(Evil, await page.Locator("#paths").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("#paths img").CountAsync());
        Assert.Contains("1 files", await page.Locator("#backup").InnerTextAsync(), StringComparison.Ordinal);
        // A viewer may read a backup's detail but not download it (the API's download needs operate).
        Assert.Equal(0, await page.Locator("#download").CountAsync());
        var refused = await page.APIRequest.GetAsync($"/backups/{other}/download", new() { MaxRedirects = 0 });
        Assert.Equal(403, refused.Status);

        var operatorPage = await browser.SignedInAsync(Roles.Operator);
        await operatorPage.GotoAsync($"/backups/{app[0]}");
        var download = await operatorPage.RunAndWaitForDownloadAsync(() => operatorPage.Locator("#download").ClickAsync());
        Assert.Equal($"{app[0]}-app.tar", download.SuggestedFilename);
        Assert.True(new FileInfo(await download.PathAsync()).Length > 0);

        // A bad id is the API's error, as a page: the same status, the same message.
        using var api = server.Client(Roles.Viewer);
        using var expected = await api.GetAsync(new Uri("/api/v1/backups/nope", UriKind.Relative), TestContext.Current.CancellationToken);
        var problem = JsonDocument.Parse(await expected.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement;
        var missing = await page.GotoAsync("/backups/nope");
        Assert.Equal((int)expected.StatusCode, missing!.Status);
        Assert.Equal(problem.GetProperty("detail").GetString(), await page.Locator("[role=alert]").InnerTextAsync());
        browser.AssertClean($"Failed to load resource: the server responded with a status of {(int)expected.StatusCode}");
    }

    private static async Task<List<string>> RowIds(IPage page)
        => [.. await page.Locator("#backups tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.backup)")];

    private static async Task<List<string>> Ids(DashboardBrowser browser, string path)
        => (await browser.ApiAsync(Roles.Viewer, path)).GetProperty("items").EnumerateArray().Select(b => b.GetProperty("id").GetString()!).ToList();
}
