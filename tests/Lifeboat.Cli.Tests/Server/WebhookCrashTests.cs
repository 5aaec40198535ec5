using System.Globalization;
using System.Text.Json;
using Lifeboat.Engine.Notifications;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// `lifeboat serve` killed with SIGKILL while it delivers: the retry schedule and the outbox are in the catalog, so
/// after a restart every event is still delivered, and no scheduled attempt is made twice.
/// </summary>
public sealed class WebhookCrashTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Events of the burst test: LIFEBOAT_TEST_BURST_EVENTS (the figure is 10000; the default suite sends 300).</summary>
    private static int BurstEvents => int.TryParse(Environment.GetEnvironmentVariable("LIFEBOAT_TEST_BURST_EVENTS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 300;

    [Fact]
    public async Task A_server_killed_between_two_attempts_delivers_on_schedule_after_its_restart_and_makes_each_attempt_once()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var config = cli.Dir.Combine("lifeboat.json");
        WebhookTests.FastRetries(config, "00:00:03", "00:00:03");
        var secret = WebhookSigning.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret, [500], Ct);
        await cli.Cli.OkAsync("webhook", "add", receiver.Url(), "--events", "test.*", "--secret", secret);

        var serve = await ServeProcess.StartAsync(cli.Dir.Path, cli.Cli.Environment.ToDictionary(), config, Ct);
        try
        {
            await cli.Cli.OkAsync("events", "generate", "--count", "1");
            await receiver.WaitAsync(r => r.Count >= 1, Deadline, Ct);
            // Between the first attempt (500) and the second, due 3 s later.
            await serve.KillAsync();
            await serve.DisposeAsync();
            serve = await ServeProcess.StartAsync(cli.Dir.Path, cli.Cli.Environment.ToDictionary(), config, Ct);
            var got = await receiver.WaitAsync(r => r.Any(x => x.Status == 200), Deadline, Ct);
            Assert.Equal([500, 200], got.Select(r => r.Status));
            Assert.All(got, r => Assert.True(r.Verified, r.Error));
            Assert.Single(got.Select(r => r.WebhookId).Distinct());

            // The receiver has answered 200; the server records it just after: wait for that before stopping it.
            var delivery = JsonDocument.Parse((await cli.Cli.OkAsync("webhook", "deliveries", "--json")).Out).RootElement.GetProperty("items")[0];
            for (var i = 0; i < 600 && delivery.GetProperty("state").GetString() != "delivered"; i++)
            {
                await Task.Delay(100, Ct);
                delivery = JsonDocument.Parse((await cli.Cli.OkAsync("webhook", "deliveries", "--json")).Out).RootElement.GetProperty("items")[0];
            }

            Assert.Equal("delivered", delivery.GetProperty("state").GetString());
            Assert.Equal(2, delivery.GetProperty("attempts").GetInt32());
        }
        finally
        {
            await serve.DisposeAsync();
        }

        var final = JsonDocument.Parse((await cli.Cli.OkAsync("webhook", "deliveries", "--json")).Out).RootElement.GetProperty("items")[0];
        Assert.Equal("delivered", final.GetProperty("state").GetString());
        Assert.Equal(2, final.GetProperty("attempts").GetInt32());
        Assert.Equal(2, receiver.Received.Count);
    }

    [Fact]
    public async Task No_event_of_a_burst_is_lost_when_the_server_is_killed_twice_while_it_delivers()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var config = cli.Dir.Combine("lifeboat.json");
        WebhookTests.FastRetries(config, "00:00:00.500", "00:00:01", "00:00:02");
        var secret = WebhookSigning.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret, cancellationToken: Ct);
        await cli.Cli.OkAsync("webhook", "add", receiver.Url(), "--events", "test.generated", "--secret", secret);
        var count = BurstEvents;
        var env = cli.Cli.Environment.ToDictionary();

        var serve = await ServeProcess.StartAsync(cli.Dir.Path, env, config, Ct);
        try
        {
            // The producer is another process, as a CLI backup or wal-push would be: its events are in the catalog whatever happens to the server.
            var producer = LifeboatProcess.RunAsync(cli.Dir.Path, env, ["--config", config, "events", "generate", "--count", count.ToString(CultureInfo.InvariantCulture), "--json"], TimeSpan.FromMinutes(20));
            var random = new Random(1414);
            foreach (var share in new[] { 0.2 + (random.NextDouble() * 0.2), 0.6 + (random.NextDouble() * 0.2) })
            {
                var at = Math.Max(1, (int)(count * share));
                await receiver.WaitAsync(r => r.Count >= at, Deadline, Ct);
                await serve.KillAsync();
                await serve.DisposeAsync();
                serve = await ServeProcess.StartAsync(cli.Dir.Path, env, config, Ct);
            }

            var produced = await producer;
            Assert.True(produced.ExitCode == 0, produced.ToString());
            var batch = JsonDocument.Parse(produced.Out).RootElement.GetProperty("batch").GetString();
            var got = await receiver.WaitAsync(r => r.Select(x => x.WebhookId).Distinct().Count() >= count, TimeSpan.FromMinutes(10), Ct);
            Assert.All(got, r => Assert.True(r.Verified, r.Error));
            var sequences = got.Select(r => r.Json.GetProperty("data")).Where(d => d.GetProperty("batch").GetString() == batch).Select(d => d.GetProperty("sequence").GetInt64()).ToHashSet();
            Assert.Equal(count, sequences.Count);
            Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), sequences.Order());
        }
        finally
        {
            await serve.DisposeAsync();
        }
    }
}
