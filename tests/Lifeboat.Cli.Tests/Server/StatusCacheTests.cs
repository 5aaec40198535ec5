using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>GET /api/v1/status shares one computation between pollers, and never answers from before a change.</summary>
public sealed class StatusCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Pollers_share_one_status_and_a_change_made_through_the_api_is_seen_by_the_next_request()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        using var viewer = server.Client(Roles.Viewer);

        async Task<JsonElement> StatusAsync() => JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/status", UriKind.Relative), Ct)).RootElement;

        // Within Server:StatusCacheSeconds (5 s by default) concurrent and successive pollers get the same report.
        var first = await StatusAsync();
        var polled = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => StatusAsync()));
        Assert.All(polled, p => Assert.Equal(first.GetProperty("at").GetString(), p.GetProperty("at").GetString()));
        Assert.DoesNotContain(first.GetProperty("checks").EnumerateArray(), c => c.GetProperty("check").GetString() == "maintenance");

        // An audited change forgets it: maintenance entered is in the very next status.
        (await admin.PostAsJsonAsync(new Uri("/api/v1/maintenance", UriKind.Relative), new { source = "app", reason = "disk swap" }, Ct)).EnsureSuccessStatusCode();
        var after = await StatusAsync();
        Assert.NotEqual(first.GetProperty("at").GetString(), after.GetProperty("at").GetString());
        Assert.Contains(after.GetProperty("checks").EnumerateArray(), c => c.GetProperty("check").GetString() == "maintenance" && c.GetProperty("source").GetString() == "app");
        (await admin.DeleteAsync(new Uri("/api/v1/maintenance?source=app", UriKind.Relative), Ct)).EnsureSuccessStatusCode();

        // A backup job's result is in the next status, not 5 s later (its submission is audited, its run publishes events).
        var lastBackup = (await StatusAsync()).GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == "last backup");
        Assert.Equal("no backup yet", lastBackup.GetProperty("detail").GetString());
        using var operatorClient = server.Client(Roles.Operator);
        var accepted = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct);
        var job = await ServerFixture.FinishedJobAsync(viewer, JsonDocument.Parse(await accepted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.GetRawText());
        lastBackup = (await StatusAsync()).GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == "last backup");
        Assert.NotEqual("no backup yet", lastBackup.GetProperty("detail").GetString());
    }
}
