using Lifeboat.Engine.Application;
using Microsoft.Playwright;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>The events page in a real chromium: the API's filters, and an event that happens later arriving live (SSE).</summary>
[Collection(DashboardCollection.Name)]
public sealed class EventsPageTests
{
    [Fact]
    public async Task The_events_page_filters_as_the_api_does_and_an_event_emitted_after_it_loaded_appears_at_the_top_live()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await cli.Cli.OkAsync("backup", "--source", "app");
        Directory.CreateDirectory(cli.Dir.Combine("other"));
        await cli.Cli.OkAsync("source", "add-files", "other", "--path", cli.Dir.Combine("other"));
        await cli.Cli.OkAsync("backup", "--source", "other");
        await using var server = await ServerFixture.StartAsync(cli);
        await using var browser = await DashboardBrowser.StartAsync(server);
        var page = await browser.SignedInAsync(Roles.Viewer);

        foreach (var query in new[] { "?source=app", "?type=backup.*", "?severity=warning", "?type=backup.completed&source=other" })
        {
            await page.GotoAsync("/events" + query);
            Assert.Equal(await Ids(browser, "/api/v1/events" + query), await RowIds(page));
        }

        await page.GotoAsync("/events");
        await page.GetByLabel("Source").SelectOptionAsync("app");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await page.WaitForURLAsync("**/events?type=&source=app&severity=");
        var before = await RowIds(page);
        Assert.Equal(await Ids(browser, "/api/v1/events?source=app"), before);
        Assert.NotEmpty(before);

        // The page's stream is open (its headers arrive at once); then a backup of app, by another process, is an event.
        var stream = await page.RunAndWaitForResponseAsync(() => page.ReloadAsync(), r => r.Url.Contains("/events/stream", StringComparison.Ordinal));
        Assert.Equal(200, stream.Status);
        Assert.StartsWith("text/event-stream", stream.Headers["content-type"], StringComparison.Ordinal);
        await cli.Cli.OkAsync("backup", "--source", "other");
        await cli.Cli.OkAsync("backup", "--source", "app");
        var api = await Ids(browser, "/api/v1/events?source=app");
        var added = api.Take(api.Count - before.Count).ToList();
        Assert.NotEmpty(added);
        await page.Locator($"#event-rows tr[data-event='{added[0]}']").WaitForAsync(new() { Timeout = 30_000 });
        // Each new event once, newest first, above what was there; none of the other source's.
        await page.WaitForFunctionAsync($"() => document.querySelectorAll('#event-rows tr').length >= {api.Count}", null, new() { Timeout = 30_000 });
        Assert.Equal(api, await RowIds(page));
        Assert.Equal("app", await page.Locator($"#event-rows tr[data-event='{added[0]}'] .source").InnerTextAsync());
        browser.AssertClean();
    }

    private static async Task<List<string>> RowIds(IPage page)
        => [.. await page.Locator("#event-rows tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.event)")];

    private static async Task<List<string>> Ids(DashboardBrowser browser, string path)
        => (await browser.ApiAsync(Roles.Viewer, path)).GetProperty("items").EnumerateArray().Select(e => e.GetProperty("id").GetString()!).ToList();
}
