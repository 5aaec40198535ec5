using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// The server's scheduled health evaluation over a files source: a drill that gets too old (Health:DrillAgeWarning)
/// raises health.violated of the check "drill age" once and a new drill resolves it; a repository that cannot be read
/// raises target.unreachable once and target.recovered when it is back.
/// </summary>
public sealed class HealthMonitorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<List<JsonElement>> EventsAsync(CliFixture cli, string type)
        => JsonDocument.Parse((await cli.Cli.OkAsync("events", "list", "--type", type, "--limit", "1000", "--json")).Out).RootElement
            .GetProperty("items").EnumerateArray().Reverse().ToList();

    private static async Task<List<JsonElement>> WaitForAsync(CliFixture cli, string type, Func<List<JsonElement>, bool> condition)
    {
        var until = TimeProvider.System.GetUtcNow() + Deadline;
        while (true)
        {
            var events = await EventsAsync(cli, type);
            if (condition(events))
            {
                return events;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < until, $"the {type} events expected did not come within {Deadline.TotalSeconds:0} s; the log has: {string.Join(", ", (await EventsAsync(cli, "*")).Select(e => e.GetProperty("type").GetString() + " " + e.GetProperty("data").GetRawText()))}");
            await Task.Delay(100, Ct);
        }
    }

    private static bool Is(JsonElement e, string check) => e.GetProperty("data").GetProperty("check").GetString() == check;

    [Fact]
    public async Task An_overdue_drill_and_an_unreadable_repository_each_alert_once_and_resolve_when_they_are_fixed()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var configPath = cli.Dir.Combine("lifeboat.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["Health"] = new JsonObject { ["EvaluateInterval"] = "00:00:00.500", ["DrillAgeWarning"] = "00:00:04" };
        config["Drill"] = new JsonObject { ["ScratchDirectory"] = cli.Dir.Combine("scratch"), ["ReportsDirectory"] = cli.Dir.Combine("reports") };
        File.WriteAllText(configPath, config.ToJsonString());
        await cli.Cli.OkAsync("backup", "--source", "app");
        await cli.Cli.OkAsync("drill", "--source", "app");
        await using var server = await ServerFixture.StartAsync(cli);

        // The drill gets older than 4 s: one alert, however many evaluations see it.
        var violated = await WaitForAsync(cli, "health.violated", e => e.Any(x => Is(x, "drill age")));
        var alert = Assert.Single(violated, x => Is(x, "drill age"));
        Assert.Equal("app", alert.GetProperty("source").GetString());
        Assert.Equal("warning", alert.GetProperty("severity").GetString());
        Assert.Contains("warning over 4 s", alert.GetProperty("data").GetProperty("detail").GetString(), StringComparison.Ordinal);
        await server.HealthPassesAsync(2);
        Assert.Single(await EventsAsync(cli, "health.violated"), x => Is(x, "drill age"));

        // A new drill: resolved.
        await cli.Cli.OkAsync("drill", "--source", "app");
        var resolved = Assert.Single(await WaitForAsync(cli, "health.resolved", e => e.Any(x => Is(x, "drill age"))), x => Is(x, "drill age"));
        Assert.Equal("healthy", resolved.GetProperty("data").GetProperty("state").GetString());
        Assert.Equal("warning", resolved.GetProperty("data").GetProperty("previousState").GetString());

        // The repository cannot be read: target.unreachable once; back: target.recovered.
        Directory.Move(cli.RepoPath, cli.RepoPath + ".away");
        var unreachable = Assert.Single(await WaitForAsync(cli, "target.unreachable", e => e.Count >= 1));
        Assert.Equal("critical", unreachable.GetProperty("severity").GetString());
        Assert.Equal("target primary", unreachable.GetProperty("data").GetProperty("check").GetString());
        Assert.Contains("the repository cannot be read", unreachable.GetProperty("data").GetProperty("detail").GetString(), StringComparison.Ordinal);
        await server.HealthPassesAsync(2);
        Assert.Single(await EventsAsync(cli, "target.unreachable"));
        Directory.Move(cli.RepoPath + ".away", cli.RepoPath);
        var recovered = Assert.Single(await WaitForAsync(cli, "target.recovered", e => e.Count >= 1));
        Assert.Equal("info", recovered.GetProperty("severity").GetString());
        Assert.True(recovered.GetProperty("data").GetProperty("resolved").GetBoolean());
        Assert.DoesNotContain(CliFixture.Passphrase, string.Join('\n', (await EventsAsync(cli, "*")).Select(e => e.GetRawText())), StringComparison.Ordinal);
    }
}
