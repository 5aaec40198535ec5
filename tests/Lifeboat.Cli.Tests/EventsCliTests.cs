using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>`lifeboat events list`: the event log the operations of a real workspace write.</summary>
public sealed class EventsCliTests
{
    [Fact]
    public async Task A_backup_writes_started_and_completed_with_one_correlation_id_and_the_list_filters_and_pages()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var backup = JsonDocument.Parse((await f.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        var token = JsonDocument.Parse((await f.Cli.OkAsync("token", "create", "--name", "ci", "--role", "operator", "--json")).Out).RootElement.GetProperty("token").GetString()!;
        // A backup of a source that is gone fails: backup.failed, an error.
        Directory.Move(f.Source, f.Source + ".gone");
        Assert.NotEqual(0, (await f.Cli.RunAsync("backup", "--source", "app")).ExitCode);

        var all = JsonDocument.Parse((await f.Cli.OkAsync("events", "list", "--json")).Out).RootElement.GetProperty("items").EnumerateArray().ToList();
        var types = all.Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["backup.failed", "backup.started", "token.created", "backup.completed", "backup.started", "source.added", "repository.initialized"], types);
        Assert.DoesNotContain(token, JsonSerializer.Serialize(all), StringComparison.Ordinal);
        Assert.DoesNotContain(CliFixture.Passphrase, JsonSerializer.Serialize(all), StringComparison.Ordinal);

        var completed = all[3];
        Assert.Equal("app", completed.GetProperty("source").GetString());
        Assert.Equal("default", completed.GetProperty("tenant").GetString());
        Assert.Equal("info", completed.GetProperty("severity").GetString());
        Assert.Equal(backup, completed.GetProperty("data").GetProperty("backupId").GetString());
        Assert.StartsWith("evt_", completed.GetProperty("id").GetString(), StringComparison.Ordinal);
        // One call, one correlation id: the backup's start and end share it, other calls have their own.
        Assert.Equal(all[4].GetProperty("correlationId").GetString(), completed.GetProperty("correlationId").GetString());
        Assert.NotEqual(all[2].GetProperty("correlationId").GetString(), completed.GetProperty("correlationId").GetString());
        Assert.Equal("error", all[0].GetProperty("severity").GetString());
        Assert.False(string.IsNullOrEmpty(all[0].GetProperty("data").GetProperty("error").GetString()));

        async Task<List<string?>> Types(params string[] args) =>
            JsonDocument.Parse((await f.Cli.OkAsync(["events", "list", "--json", .. args])).Out).RootElement.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
        Assert.Equal(["backup.failed", "backup.started", "backup.completed", "backup.started"], await Types("--type", "backup.*"));
        Assert.Equal(["backup.failed"], await Types("--severity", "error"));
        Assert.Equal(["backup.failed", "backup.completed"], await Types("--type", "*.failed,*.completed", "--source", "app"));
        Assert.Equal(["backup.completed", "backup.started"], await Types("--correlation", completed.GetProperty("correlationId").GetString()!));
        Assert.Empty(await Types("--until", "1h"));
        Assert.Equal(7, (await Types("--since", "1h")).Count);

        // Pages of two, newest first, until the last.
        var seen = new List<string?>();
        string? cursor = null;
        do
        {
            var page = JsonDocument.Parse((await f.Cli.OkAsync(["events", "list", "--json", "--limit", "2", .. cursor is null ? Array.Empty<string>() : ["--cursor", cursor]])).Out).RootElement;
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
            cursor = page.TryGetProperty("next", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);
        Assert.Equal(types, seen);

        var text = await f.Cli.OkAsync("events", "list", "--type", "backup.completed");
        Assert.Contains("backup.completed", text.Out, StringComparison.Ordinal);
        Assert.Contains(completed.GetProperty("correlationId").GetString()!, text.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--type", "Backup!", "--type 'Backup!' is not an event type pattern")]
    [InlineData("--severity", "loud", "--severity 'loud' is not a severity")]
    [InlineData("--since", "yesterday-ish", "--since 'yesterday-ish' is neither a time nor a duration")]
    [InlineData("--cursor", "garbage", "--cursor 'garbage' is not a cursor of this list")]
    [InlineData("--limit", "0", "--limit 0 is out of range")]
    public async Task A_bad_filter_exits_2_naming_the_flag(string flag, string value, string message)
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var result = await f.Cli.RunAsync("events", "list", flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("lifeboat: " + message, result.Error, StringComparison.Ordinal);
        Assert.Contains("hint: ", result.Error, StringComparison.Ordinal);
    }
}
