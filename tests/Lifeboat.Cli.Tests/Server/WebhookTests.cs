using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// Webhooks delivered by a real server to a real receiver that verifies every request with the Standard Webhooks
/// reference library (npm standardwebhooks, tests/peers/webhook-receiver.js), never with Lifeboat's own code.
/// </summary>
public sealed class WebhookTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Short waits between attempts, no jitter: the retries of a test come in a second, not in minutes.</summary>
    internal static void FastRetries(string configPath, params string[] schedule)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["Events"] = new JsonObject
        {
            ["PollInterval"] = "00:00:00.050",
            ["Webhooks"] = new JsonObject { ["RetrySchedule"] = new JsonArray(schedule.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()), ["Jitter"] = 0 },
        };
        File.WriteAllText(configPath, config.ToJsonString());
    }

    private static async Task<JsonElement> AddAsync(HttpClient admin, string url, string[] events, string? secret)
    {
        var response = await admin.PostAsJsonAsync(new Uri("/api/v1/webhooks", UriKind.Relative), new { url, events, secret }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
    }

    /// <summary>The first delivery of <paramref name="path"/> once its state is <c>delivered</c> (the attempt is recorded after the receiver answered).</summary>
    internal static async Task<JsonElement> DeliveredAsync(HttpClient client, string path)
        => (await ServerFixture.DeliveriesAsync(client, path, items => items.Count > 0 && items[0].GetProperty("state").GetString() == "delivered"))[0];

    private static async Task<JsonElement> GetAsync(HttpClient client, string path) => JsonDocument.Parse(await client.GetStringAsync(new Uri(path, UriKind.Relative), Ct)).RootElement;

    [Fact]
    public async Task A_backup_completed_arrives_verified_and_a_receiver_answering_500_twice_gets_it_on_the_third_attempt_with_retry_after_honoured()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        FastRetries(cli.Dir.Combine("lifeboat.json"), "00:00:00.100", "00:00:00.100", "00:00:00.100");
        var secret = Lifeboat.Engine.Notifications.WebhookSigning.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret, [500, 500], Ct);
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        var hook = await AddAsync(admin, receiver.Url(), ["backup.completed"], secret);
        var hookId = hook.GetProperty("id").GetString()!;
        Assert.Equal(secret, hook.GetProperty("secret").GetString());

        var backup = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        var got = await receiver.WaitAsync(r => r.Count >= 3, Deadline, Ct);
        Assert.Equal([500, 500, 200], got.Select(r => r.Status));
        Assert.All(got, r => Assert.True(r.Verified, r.Error));
        Assert.Single(got.Select(r => r.WebhookId).Distinct());
        Assert.Equal("backup.completed", got[2].Json.GetProperty("type").GetString());
        Assert.Equal(backup, got[2].Json.GetProperty("data").GetProperty("backupId").GetString());
        Assert.Equal(got[2].WebhookId, got[2].Json.GetProperty("id").GetString());
        Assert.StartsWith("application/json", got[2].ContentType, StringComparison.Ordinal);

        // The delivery log: one delivery, three attempts, their statuses and the answer's start.
        var delivery = await DeliveredAsync(admin, $"/api/v1/webhooks/{hookId}/deliveries");
        Assert.Single((await GetAsync(admin, $"/api/v1/webhooks/{hookId}/deliveries")).GetProperty("items").EnumerateArray());
        Assert.Equal("delivered", delivery.GetProperty("state").GetString());
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        var attempts = delivery.GetProperty("log").EnumerateArray().ToList();
        Assert.Equal([500, 500, 200], attempts.Select(a => a.GetProperty("status").GetInt32()));
        Assert.Equal("receiver says 500", attempts[0].GetProperty("response").GetString());
        Assert.Equal("HTTP 500 Internal Server Error", attempts[0].GetProperty("error").GetString());

        // Retry-After: 2 seconds, though the schedule says 0.1.
        await receiver.ControlAsync(statuses: [503], retryAfterSeconds: 2, cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(new Uri($"/api/v1/webhooks/{hookId}", UriKind.Relative), new { events = new[] { "backup.completed", "test.*" } }, Ct)).StatusCode);
        await cli.Cli.OkAsync("events", "generate", "--count", "1");
        await receiver.WaitAsync(r => r.Count >= 5, Deadline, Ct);
        // The receiver has answered; the server records the attempt just after: wait for the delivery to be delivered.
        var slow = (await DeliveredAsync(admin, "/api/v1/deliveries?limit=1")).GetProperty("log").EnumerateArray().ToList();
        Assert.Equal([503, 200], slow.Select(a => a.GetProperty("status").GetInt32()));
        Assert.True(slow[1].GetProperty("time").GetDateTimeOffset() - slow[0].GetProperty("time").GetDateTimeOffset() >= TimeSpan.FromSeconds(1.9), "Retry-After was not honoured");
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_dead_letters_the_delivery_and_after_enabling_redeliver_test_and_replay_arrive()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        FastRetries(cli.Dir.Combine("lifeboat.json"), "00:00:00.100");
        var secret = Lifeboat.Engine.Notifications.WebhookSigning.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret, [410], Ct);
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        using var viewer = server.Client(Roles.Viewer);
        var hookId = (await AddAsync(admin, receiver.Url(), ["test.*"], secret)).GetProperty("id").GetString()!;

        var generated = JsonDocument.Parse((await cli.Cli.OkAsync("events", "generate", "--count", "1", "--json")).Out).RootElement;
        await receiver.WaitAsync(r => r.Count >= 1, Deadline, Ct);
        JsonElement hook = default;
        for (var i = 0; i < 200 && (hook.ValueKind == JsonValueKind.Undefined || hook.GetProperty("enabled").GetBoolean()); i++)
        {
            hook = await GetAsync(viewer, $"/api/v1/webhooks/{hookId}");
            if (hook.GetProperty("enabled").GetBoolean())
            {
                await Task.Delay(50, Ct);
            }
        }

        Assert.False(hook.GetProperty("enabled").GetBoolean());
        Assert.Contains("410 Gone", hook.GetProperty("disabledReason").GetString(), StringComparison.Ordinal);
        var dead = Assert.Single((await GetAsync(viewer, "/api/v1/deliveries?state=dead")).GetProperty("items").EnumerateArray());
        Assert.Equal(1, dead.GetProperty("attempts").GetInt32());
        var disabled = (await GetAsync(viewer, "/api/v1/events?type=webhook.disabled")).GetProperty("items");
        Assert.Equal(hookId, disabled[0].GetProperty("data").GetProperty("id").GetString());

        // Re-enabled, the dead letter is redelivered (same webhook-id), a test arrives, and a replay sends the batch again.
        Assert.True((await GetAsync(admin, $"/api/v1/webhooks/{hookId}")).GetProperty("secrets").GetInt32() == 1);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(new Uri($"/api/v1/webhooks/{hookId}", UriKind.Relative), new { enabled = true }, Ct)).StatusCode);
        var again = await admin.PostAsync(new Uri($"/api/v1/deliveries/{dead.GetProperty("id").GetString()}/redeliver", UriKind.Relative), null, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var got = await receiver.WaitAsync(r => r.Count >= 2, Deadline, Ct);
        Assert.Equal(got[0].WebhookId, got[1].WebhookId);
        Assert.Equal(200, got[1].Status);

        var test = JsonDocument.Parse(await (await admin.PostAsync(new Uri($"/api/v1/webhooks/{hookId}/test", UriKind.Relative), null, Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("delivered", test.GetProperty("state").GetString());
        Assert.Equal("webhook.test", test.GetProperty("eventType").GetString());
        got = await receiver.WaitAsync(r => r.Count >= 3, Deadline, Ct);
        Assert.True(got[2].Verified, got[2].Error);
        Assert.Equal("webhook.test", got[2].Json.GetProperty("type").GetString());

        var correlation = (await GetAsync(viewer, "/api/v1/events?type=test.generated")).GetProperty("items")[0].GetProperty("correlationId").GetString();
        var replay = JsonDocument.Parse(await (await admin.PostAsJsonAsync(new Uri($"/api/v1/webhooks/{hookId}/replay", UriKind.Relative), new { correlation }, Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal(1, replay.GetProperty("deliveries").GetInt32());
        got = await receiver.WaitAsync(r => r.Count >= 4, Deadline, Ct);
        Assert.True(got[0].WebhookId == got[3].WebhookId, string.Join('\n', got.Select(r => r.Body)));
        Assert.Equal(generated.GetProperty("batch").GetString(), got[3].Json.GetProperty("data").GetProperty("batch").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync(new Uri($"/api/v1/webhooks/{hookId}/replay", UriKind.Relative), new { }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync(new Uri("/api/v1/webhooks/wh_nope/test", UriKind.Relative), null, Ct)).StatusCode);
    }

    [Fact]
    public async Task A_secret_rotation_keeps_deliveries_verifying_with_the_old_secret_then_the_new_and_a_retired_secret_no_longer_verifies()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        FastRetries(cli.Dir.Combine("lifeboat.json"));
        var first = Lifeboat.Engine.Notifications.WebhookSigning.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(first, cancellationToken: Ct);
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        var hookId = (await AddAsync(admin, receiver.Url(), ["test.*"], first)).GetProperty("id").GetString()!;

        async Task<ReceivedWebhook> NextAsync()
        {
            var before = receiver.Received.Count;
            await cli.Cli.OkAsync("events", "generate", "--count", "1");
            return (await receiver.WaitAsync(r => r.Count > before, Deadline, Ct))[before];
        }

        async Task<JsonElement> RotateAsync(object body)
            => JsonDocument.Parse(await (await admin.PostAsJsonAsync(new Uri($"/api/v1/webhooks/{hookId}/rotate-secret", UriKind.Relative), body, Ct)).Content.ReadAsStringAsync(Ct)).RootElement;

        Assert.True((await NextAsync()).Verified);
        var rotated = await RotateAsync(new { });
        var second = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(first, second);
        Assert.True(rotated.TryGetProperty("previousSecretExpires", out _));

        // During the overlap both secrets sign: the receiver still on the first verifies, and so one on the second.
        var during = await NextAsync();
        Assert.True(during.Verified, during.Error);
        Assert.Equal(2, during.Signature!.Split(' ').Length);
        await receiver.ControlAsync(secret: second, cancellationToken: Ct);
        Assert.True((await NextAsync()).Verified);

        // Rotated with no overlap, the second no longer signs: a receiver that kept it rejects the message.
        var third = (await RotateAsync(new { overlap = "0" })).GetProperty("secret").GetString()!;
        var stale = await NextAsync();
        Assert.False(stale.Verified);
        Assert.Single(stale.Signature!.Split(' '));
        await receiver.ControlAsync(secret: third, cancellationToken: Ct);
        Assert.True((await NextAsync()).Verified);
        Assert.DoesNotContain(third, await admin.GetStringAsync(new Uri("/api/v1/webhooks", UriKind.Relative), Ct), StringComparison.Ordinal);
        Assert.DoesNotContain(third, (await cli.Cli.OkAsync("events", "list", "--json")).Out, StringComparison.Ordinal);
    }
}
