using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// Routing rules and chat channels delivered by a real server to a real HTTP receiver (tests/peers/webhook-receiver.js,
/// which prints every request's path and body): a Slack-compatible incoming webhook and a Teams workflow webhook.
/// </summary>
public sealed class ChatNotificationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Events:Channels slack (Url) and teams (UrlFile), one route of backup.* from warning up to both.</summary>
    private static void Configure(CliFixture cli, WebhookReceiver receiver, string quietPeriod)
    {
        var configPath = cli.Dir.Combine("lifeboat.json");
        File.WriteAllText(cli.Dir.Combine("teams.url"), receiver.Url("/teams") + "\n");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["Events"] = new JsonObject
        {
            ["PollInterval"] = "00:00:00.050",
            ["Webhooks"] = new JsonObject { ["RetrySchedule"] = new JsonArray("00:00:00.100"), ["Jitter"] = 0 },
            ["Channels"] = new JsonObject
            {
                ["slack"] = new JsonObject { ["Kind"] = "slack", ["Url"] = receiver.Url("/slack") },
                ["teams"] = new JsonObject { ["Kind"] = "teams", ["UrlFile"] = "teams.url" },
            },
            ["Routes"] = new JsonArray(new JsonObject
            {
                ["Events"] = new JsonArray("backup.*"),
                ["MinSeverity"] = "warning",
                ["Channels"] = new JsonArray("slack", "teams"),
                ["QuietPeriod"] = quietPeriod,
            }),
        };
        File.WriteAllText(configPath, config.ToJsonString());
    }

    [Fact]
    public async Task A_failing_backup_alerts_slack_and_teams_once_its_repeat_is_held_back_and_the_next_good_backup_sends_resolved()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: Ct);
        Configure(cli, receiver, "01:00:00");
        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);

        Directory.Move(cli.Source, cli.Source + ".gone");
        Assert.NotEqual(0, (await cli.Cli.RunAsync("backup", "--source", "app")).ExitCode);
        var alerts = await receiver.WaitAsync(r => r.Count >= 2, Deadline, Ct);
        Assert.NotEqual(0, (await cli.Cli.RunAsync("backup", "--source", "app")).ExitCode);
        Directory.Move(cli.Source + ".gone", cli.Source);
        await cli.Cli.OkAsync("backup", "--source", "app");
        var got = await receiver.WaitAsync(r => r.Count >= 4, Deadline, Ct);

        // Events are dispatched in order: once the resolution is in, the repeat was routed — and held back.
        // The receiver has answered the fourth request; the server records that attempt just after it: wait for it.
        static bool Chat(JsonElement d) => d.GetProperty("channel").GetString()!.StartsWith("chat:", StringComparison.Ordinal);
        var deliveries = (await ServerFixture.DeliveriesAsync(viewer, "/api/v1/deliveries?limit=100", all => all.Where(Chat).Count(d => d.GetProperty("state").GetString() == "delivered") == 4))
            .Where(Chat).ToList();
        Assert.Equal(4, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("delivered", d.GetProperty("state").GetString()));
        Assert.Equal(4, receiver.Received.Count);
        var failed = JsonDocument.Parse((await cli.Cli.OkAsync("events", "list", "--type", "backup.failed", "--json")).Out).RootElement.GetProperty("items");
        Assert.Equal(2, failed.GetArrayLength());

        var slack = got.Where(r => r.Path == "/slack").Select(r => r.Json.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, slack.Count);
        Assert.Contains("backup.failed on 'app'", slack[0], StringComparison.Ordinal);
        Assert.StartsWith("*[Lifeboat] RESOLVED backup.failed on 'app'", slack[1], StringComparison.Ordinal);
        Assert.Contains("backup of 'app'", slack[1], StringComparison.Ordinal);

        var teams = got.Where(r => r.Path == "/teams").Select(r => r.Json).ToList();
        Assert.Equal(2, teams.Count);
        foreach (var message in teams)
        {
            Assert.Equal("message", message.GetProperty("type").GetString());
            var attachment = Assert.Single(message.GetProperty("attachments").EnumerateArray());
            Assert.Equal("application/vnd.microsoft.card.adaptive", attachment.GetProperty("contentType").GetString());
            var card = attachment.GetProperty("content");
            Assert.Equal("AdaptiveCard", card.GetProperty("type").GetString());
            Assert.Equal("TextBlock", card.GetProperty("body")[0].GetProperty("type").GetString());
            var facts = card.GetProperty("body")[2].GetProperty("facts").EnumerateArray().ToDictionary(f => f.GetProperty("title").GetString()!, f => f.GetProperty("value").GetString());
            Assert.Equal("app", facts["Source"]);
        }

        Assert.Contains("backup.failed on 'app'", teams[0].GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("backup.failed (error)", teams[0].GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[2].GetProperty("facts")[0].GetProperty("value").GetString());
        Assert.Contains("RESOLVED", teams[1].GetProperty("attachments")[0].GetProperty("content").GetProperty("body")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(alerts.Select(r => r.Path).Order(), ["/slack", "/teams"]);
        Assert.DoesNotContain(CliFixture.Passphrase, string.Join('\n', got.Select(r => r.Body)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_test_sends_to_one_channel_from_the_cli_and_the_api_and_an_unknown_channel_is_refused_naming_the_configured_ones()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var receiver = await WebhookReceiver.StartAsync(cancellationToken: Ct);
        Configure(cli, receiver, "00:00:00");
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        using var viewer = server.Client(Roles.Viewer);

        var sent = JsonDocument.Parse((await cli.Cli.OkAsync("notify", "test", "slack", "--json")).Out).RootElement;
        Assert.Equal("delivered", sent.GetProperty("state").GetString());
        Assert.Equal("chat:slack", sent.GetProperty("channel").GetString());
        Assert.Equal("notify.test", sent.GetProperty("eventType").GetString());
        var first = Assert.Single(await receiver.WaitAsync(r => r.Count >= 1, Deadline, Ct));
        Assert.Equal("/slack", first.Path);
        Assert.Contains("test message", first.Json.GetProperty("text").GetString(), StringComparison.Ordinal);

        var api = await admin.PostAsync(new Uri("/api/v1/notifications/teams/test", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        Assert.Equal("delivered", JsonDocument.Parse(await api.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("state").GetString());
        var second = (await receiver.WaitAsync(r => r.Count >= 2, Deadline, Ct))[1];
        Assert.Equal("/teams", second.Path);
        Assert.Equal("AdaptiveCard", second.Json.GetProperty("attachments")[0].GetProperty("content").GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync(new Uri("/api/v1/notifications/teams/test", UriKind.Relative), null, Ct)).StatusCode);

        // A receiver that refuses: the test says so and exits 1; the test event goes to no route.
        await receiver.ControlAsync(statuses: [500], cancellationToken: Ct);
        var refused = await cli.Cli.RunAsync("notify", "test", "slack");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("test of chat:slack: dead", refused.Out, StringComparison.Ordinal);
        Assert.Contains("HTTP 500", refused.Out, StringComparison.Ordinal);

        var unknown = await cli.Cli.RunAsync("notify", "test", "pager");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("there is no notification CHANNEL 'pager' (configured: slack, teams)", unknown.Error, StringComparison.Ordinal);
        var missing = await admin.PostAsync(new Uri("/api/v1/notifications/pager/test", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // The listing names the channels and routes but never a webhook URL (a secret).
        var list = (await cli.Cli.OkAsync("notify", "list", "--json")).Out;
        var view = JsonDocument.Parse(list).RootElement;
        Assert.Equal(["slack", "teams"], view.GetProperty("channels").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(["slack", "teams"], view.GetProperty("routes")[0].GetProperty("channels").EnumerateArray().Select(c => c.GetString()));
        Assert.DoesNotContain(receiver.Url(""), list, StringComparison.Ordinal);
        Assert.DoesNotContain(receiver.Url(""), await viewer.GetStringAsync(new Uri("/api/v1/notifications", UriKind.Relative), Ct), StringComparison.Ordinal);
    }
}
