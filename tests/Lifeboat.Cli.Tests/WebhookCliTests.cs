using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>`lifeboat webhook …` without a server: endpoints are kept in the catalog, secrets shown once, bad input exits 2.</summary>
public sealed class WebhookCliTests
{
    [Fact]
    public async Task An_endpoint_is_added_with_a_generated_secret_shown_once_listed_without_it_changed_and_removed()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var add = await f.Cli.OkAsync("webhook", "add", "https://hooks.example.com/lifeboat", "--events", "backup.*,drill.failed");
        var secret = add.Out.Trim();
        Assert.Matches("^whsec_[A-Za-z0-9+/=]{44}$", secret);
        Assert.Contains("shown this once", add.Error, StringComparison.Ordinal);

        var list = await f.Cli.OkAsync("webhook", "list", "--json");
        Assert.DoesNotContain(secret, list.Out, StringComparison.Ordinal);
        var hook = JsonDocument.Parse(list.Out).RootElement.GetProperty("items")[0];
        var id = hook.GetProperty("id").GetString()!;
        Assert.Equal(["backup.*", "drill.failed"], hook.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.True(hook.GetProperty("enabled").GetBoolean());

        var updated = JsonDocument.Parse((await f.Cli.OkAsync("webhook", "update", id, "--disable", "--json")).Out).RootElement;
        Assert.False(updated.GetProperty("enabled").GetBoolean());
        Assert.Equal(["backup.*", "drill.failed"], updated.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        var rotated = await f.Cli.OkAsync("webhook", "rotate-secret", id);
        Assert.NotEqual(secret, rotated.Out.Trim());
        Assert.Contains("previous secret signs too until", rotated.Error, StringComparison.Ordinal);

        Assert.Contains($"removed webhook {id}", (await f.Cli.OkAsync("webhook", "remove", id)).Out, StringComparison.Ordinal);
        var events = (await f.Cli.OkAsync("events", "list", "--type", "webhook.*", "--json")).Out;
        Assert.Equal(["webhook.removed", "webhook.secret_rotated", "webhook.changed", "webhook.added"],
            JsonDocument.Parse(events).RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.DoesNotContain(secret, events, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "webhook", "add", "ftp://example.com/x" }, "URL 'ftp://example.com/x' is not an http:// or https:// URL")]
    [InlineData(new[] { "webhook", "add", "https://user:pw@example.com/x" }, "carries credentials")]
    [InlineData(new[] { "webhook", "add", "https://example.com/x", "--secret", "hunter2" }, "--secret is not a Standard Webhooks secret")]
    [InlineData(new[] { "webhook", "add", "https://example.com/x", "--events", "Backup!" }, "--events 'Backup!' is not an event type pattern")]
    [InlineData(new[] { "webhook", "test", "wh_nope" }, "there is no webhook with the ID 'wh_nope'")]
    [InlineData(new[] { "webhook", "deliveries", "--state", "lost" }, "--state 'lost' is not a delivery state")]
    [InlineData(new[] { "events", "generate", "--count", "0" }, "--count 0 is out of range")]
    public async Task Bad_input_exits_with_a_message_naming_what_is_wrong(string[] args, string message)
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var result = await f.Cli.RunAsync(args);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("pw@", result.Error, StringComparison.Ordinal);
    }
}
