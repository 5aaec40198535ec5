using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>Bad input gets a clear error (what, where, how to fix), the contract's exit code, and never a stack trace.</summary>
public sealed class BadInputTests
{
    private static void NoStackTrace(CliResult result)
    {
        Assert.DoesNotContain("   at ", result.All, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_passphrase_exits_2_naming_the_repository()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        f.Cli.Environment["LIFEBOAT_PASSPHRASE"] = "not-the-passphrase";
        var result = await f.Cli.RunAsync("backup", "--source", "app");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"lifeboat: wrong passphrase for repository {f.RepoUrl}\n", result.Error, StringComparison.Ordinal);
        Assert.Contains("hint: ", result.Error, StringComparison.Ordinal);
        NoStackTrace(result);
        Assert.False(Directory.Exists(Path.Combine(f.RepoPath, "backups")) && Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Any());
    }

    [Fact]
    public async Task A_missing_repository_exits_2_with_the_path_and_the_fix()
    {
        using var f = new CliFixture();
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), $"{{\"Repository\":{{\"Url\":\"{f.RepoUrl}\"}}}}");
        var result = await f.Cli.RunAsync("list");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"lifeboat: there is no Lifeboat repository at {f.RepoUrl}\nhint: check Repository:Url in the configuration file, or create a repository with `lifeboat repo init --repo URL`\n", result.Error);
    }

    [Fact]
    public async Task No_configured_repository_exits_2_and_says_how_to_create_one()
    {
        using var f = new CliFixture();
        var result = await f.Cli.RunAsync("list");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"no repository is configured in {f.Dir.Combine("lifeboat.json")}", result.Error, StringComparison.Ordinal);
        Assert.Contains("lifeboat repo init --repo URL", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_command_or_option_is_a_usage_error_with_exit_code_2()
    {
        using var f = new CliFixture();
        var unknown = await f.Cli.RunAsync("bakcup");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("bakcup", unknown.Error, StringComparison.Ordinal);
        var missing = await f.Cli.RunAsync("backup");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--source", missing.Error, StringComparison.Ordinal);
        Assert.Contains("hint: see `lifeboat backup --help`", missing.Error, StringComparison.Ordinal);
        var badType = await f.Cli.RunAsync("backup", "--source", "app", "--type", "differential");
        Assert.Equal(2, badType.ExitCode);
    }

    [Fact]
    public async Task Help_exits_0()
    {
        using var f = new CliFixture();
        var help = await f.Cli.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("backup", help.Out, StringComparison.Ordinal);
        Assert.Contains("restore", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backing_up_an_unknown_source_exits_2_and_lists_the_configured_ones()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var result = await f.Cli.RunAsync("backup", "--source", "uploads");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("there is no source 'uploads'", result.Error, StringComparison.Ordinal);
        Assert.Contains("configured: app", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adding_a_source_whose_path_does_not_exist_exits_2_and_changes_nothing()
    {
        using var f = new CliFixture();
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var before = File.ReadAllText(f.Dir.Combine("lifeboat.json"));
        var result = await f.Cli.RunAsync("source", "add-files", "app", "--path", "/nonexistent/uploads");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("lifeboat: the path of source 'app', /nonexistent/uploads, does not exist\nhint: create it, or fix Sources:app:Path in the configuration file\n", result.Error);
        Assert.Equal(before, File.ReadAllText(f.Dir.Combine("lifeboat.json")));
        var badName = await f.Cli.RunAsync("source", "add-files", "My Uploads", "--path", f.Source);
        Assert.Equal(2, badName.ExitCode);
        Assert.Contains("'My Uploads' is not a valid source name", badName.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_source_path_removed_before_the_backup_exits_2_and_writes_nothing_to_the_repository()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        Directory.Delete(f.Source, recursive: true);
        var objects = Directory.EnumerateFiles(f.RepoPath, "*", SearchOption.AllDirectories).Count();
        var result = await f.Cli.RunAsync("backup", "--source", "app");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"the path of source 'app', {f.Source}, does not exist", result.Error, StringComparison.Ordinal);
        Assert.Equal(objects, Directory.EnumerateFiles(f.RepoPath, "*", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task Restore_into_a_non_empty_directory_is_refused_without_overwrite()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var result = await f.Cli.RunAsync("restore", "--source", "app", "--to", "source");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"the restore destination {f.Source} is not empty", result.Error, StringComparison.Ordinal);
        Assert.Contains("--overwrite", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_without_a_key_and_without_a_terminal_exits_2_and_creates_nothing()
    {
        using var f = new CliFixture();
        f.Cli.Environment.Remove("LIFEBOAT_PASSPHRASE");
        var result = await f.Cli.RunAsync("repo", "init", "--repo", f.RepoUrl);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("no passphrase or key file was given", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(f.RepoPath));
    }

    [Fact]
    public async Task Errors_in_json_mode_are_one_json_document_on_stdout()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        f.Cli.Environment["LIFEBOAT_PASSPHRASE"] = "wrong";
        var result = await f.Cli.RunAsync("list", "--json");
        Assert.Equal(2, result.ExitCode);
        var error = JsonDocument.Parse(result.Out).RootElement.GetProperty("error");
        Assert.Equal("WrongPassphrase", error.GetProperty("code").GetString());
        Assert.Equal(2, error.GetProperty("exitCode").GetInt32());
    }

    [Fact]
    public async Task A_backup_id_of_another_source_or_an_invalid_id_is_refused()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var result = await f.Cli.RunAsync("info", "latest");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'latest' is not a backup id", result.Error, StringComparison.Ordinal);
        var missing = await f.Cli.RunAsync("info", "20260101-000000-0000");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("there is no backup 20260101-000000-0000", missing.Error, StringComparison.Ordinal);
    }
}
