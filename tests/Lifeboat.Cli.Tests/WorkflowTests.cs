using System.Text.Json;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests;

public sealed class WorkflowTests
{
    [Fact]
    public async Task Init_backup_list_info_restore_and_verify_work_end_to_end()
    {
        using var f = new CliFixture();
        var init = await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        Assert.Contains($"created repository {f.RepoUrl}", init.Out, StringComparison.Ordinal);
        Assert.Contains("aes-256-gcm", init.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(f.Dir.Combine("lifeboat.json")));

        var add = await f.Cli.OkAsync("source", "add-files", "app", "--path", "source", "--exclude", "*.tmp");
        Assert.Contains($"added source 'app' (files, {f.Source})", add.Out, StringComparison.Ordinal);

        var backup = await f.Cli.OkAsync("backup", "--source", "app");
        Assert.Matches(@"backup \d{8}-\d{6}-[0-9a-f]{4} of 'app' \(full\) completed", backup.Out);

        var list = await f.Cli.OkAsync("list", "--json");
        using var doc = JsonDocument.Parse(list.Out);
        var backups = doc.RootElement.GetProperty("backups");
        Assert.Equal(1, backups.GetArrayLength());
        var id = backups[0].GetProperty("id").GetString()!;
        Assert.Equal("app", backups[0].GetProperty("source").GetString());
        Assert.Equal(30, backups[0].GetProperty("stats").GetProperty("files").GetInt64());

        var info = await f.Cli.OkAsync("info", id, "--json");
        Assert.Equal(id, JsonDocument.Parse(info.Out).RootElement.GetProperty("id").GetString());
        var infoText = await f.Cli.OkAsync("info", id);
        Assert.Contains("contents   30 files", infoText.Out, StringComparison.Ordinal);

        var restore = await f.Cli.OkAsync("restore", "--source", "app", "--to", "restored");
        Assert.Contains($"restored backup {id} of 'app' to {f.Dir.Combine("restored")}", restore.Out, StringComparison.Ordinal);
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("restored")));

        var verify = await f.Cli.OkAsync("verify", "--read-data");
        Assert.Contains("no damage found", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_files_demo_backs_up_restores_and_proves_the_copy_identical()
    {
        var result = await new CliRunner(Path.GetTempPath()).OkAsync("demo", "--files");
        Assert.Contains("8. compare the restored tree with the original", result.Out, StringComparison.Ordinal);
        Assert.Contains("identical: contents, sizes, modes, mtimes, symlinks, empty directories", result.Out, StringComparison.Ordinal);
        Assert.Contains("Demo passed", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cluster_demo_recovers_the_dropped_table_with_no_row_lost()
    {
        Peers.Require(ClusterFixture.Available, "PostgreSQL 15 (initdb, pg_ctl)");
        var result = await new CliRunner(Path.GetTempPath()).OkAsync("demo");
        Assert.Contains("7. the accident: DROP TABLE pgbench_accounts", result.Out, StringComparison.Ordinal);
        Assert.Contains("RPO: rows lost: 0", result.Out, StringComparison.Ordinal);
        Assert.Matches(@"RTO: \d+\.\d s from the start of the restore to the first query", result.Out);
        Assert.Contains("Demo passed", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_can_be_added_listed_and_removed_without_re_encrypting_data()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var dataBefore = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "data"), "*", SearchOption.AllDirectories).Select(File.ReadAllBytes).Select(TestData.Sha256).Order().ToList();

        var add = await f.Cli.OkAsync("repo", "key", "add", "--new-key-file", "machine.key", "--label", "archive_command");
        Assert.Matches("added key slot [0-9a-f]{8} \\(keyfile\\)", add.Out);
        var list = await f.Cli.OkAsync("repo", "key", "list", "--json");
        var slots = JsonDocument.Parse(list.Out).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, slots.Count);
        var passphraseSlot = slots.Single(s => s.GetProperty("kind").GetString() == "passphrase").GetProperty("id").GetString()!;

        // Open with the key file alone, and remove the passphrase slot.
        var viaKey = new CliRunner(f.Dir.Path);
        await viaKey.OkAsync("--key-file", "machine.key", "repo", "key", "remove", passphraseSlot[..10]);
        var wrong = await f.Cli.RunAsync("list");
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.Error, StringComparison.Ordinal);
        await viaKey.OkAsync("--key-file", "machine.key", "restore", "--source", "app", "--to", "r");
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("r")));

        var dataAfter = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "data"), "*", SearchOption.AllDirectories).Select(File.ReadAllBytes).Select(TestData.Sha256).Order().ToList();
        Assert.Equal(dataBefore, dataAfter);
    }

    [Fact]
    public async Task Forget_and_prune_free_space_and_leave_the_other_backups_restorable()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        File.WriteAllBytes(Path.Combine(f.Source, "big.bin"), TestData.Random(3_000_000, 1));
        await f.Cli.OkAsync("backup", "--source", "app");
        var first = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        File.Delete(Path.Combine(f.Source, "big.bin"));
        await f.Cli.OkAsync("backup", "--source", "app");

        var dry = await f.Cli.OkAsync("prune", "--dry-run", "--json");
        Assert.Equal(0, JsonDocument.Parse(dry.Out).RootElement.GetProperty("packsDeleted").GetInt32());
        var forget = await f.Cli.OkAsync("forget", first, "--prune");
        Assert.Contains($"forgot backup {first}", forget.Out, StringComparison.Ordinal);
        Assert.Contains("space freed:", forget.Out, StringComparison.Ordinal);
        Assert.Equal(1, JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").GetArrayLength());
        await f.Cli.OkAsync("verify", "--read-data");
        await f.Cli.OkAsync("restore", "--source", "app", "--to", "r");
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("r")));
    }

    [Fact]
    public async Task Source_list_shows_what_is_configured()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var list = await f.Cli.OkAsync("source", "list", "--json");
        var source = JsonDocument.Parse(list.Out).RootElement[0];
        Assert.Equal("app", source.GetProperty("name").GetString());
        Assert.Equal(f.Source, source.GetProperty("path").GetString());
        await f.Cli.OkAsync("source", "remove", "app");
        Assert.Contains("no sources", (await f.Cli.OkAsync("source", "list")).Out, StringComparison.Ordinal);
    }
}
