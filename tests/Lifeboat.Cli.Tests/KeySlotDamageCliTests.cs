using System.Text.Json;

namespace Lifeboat.Cli.Tests;

public sealed class KeySlotDamageCliTests
{
    [Fact]
    public async Task A_damaged_key_slot_is_skipped_listed_as_damaged_and_makes_verify_exit_3()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var first = JsonDocument.Parse((await f.Cli.OkAsync("repo", "key", "list", "--json")).Out).RootElement[0].GetProperty("id").GetString()!;
        await f.Cli.OkAsync("repo", "key", "add", "--new-key-file", "machine.key", "--label", "machine");
        var second = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "keys")).Select(Path.GetFileName).Single(n => n != first)!;
        File.WriteAllText(Path.Combine(f.RepoPath, "keys", second), "{\"id\": \"trunc");

        await f.Cli.OkAsync("backup", "--source", "app");
        var list = await f.Cli.OkAsync("repo", "key", "list");
        Assert.Contains("DAMAGED", list.Out, StringComparison.Ordinal);
        Assert.Contains(second[..8], list.Out, StringComparison.Ordinal);
        var backups = await f.Cli.OkAsync("list");
        Assert.Contains($"Key slot keys/{second} is damaged and was skipped", backups.Error, StringComparison.Ordinal);

        var verify = await f.Cli.RunAsync("verify");
        Assert.Equal(3, verify.ExitCode);
        Assert.Contains($"keys/{second}", verify.Error, StringComparison.Ordinal);

        var viaKeyFile = await f.Cli.RunAsync("--key-file", "machine.key", "list");
        Assert.Equal(3, viaKeyFile.ExitCode);
        Assert.Contains($"key slot {second} is damaged", viaKeyFile.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", viaKeyFile.Error, StringComparison.Ordinal);
    }
}
