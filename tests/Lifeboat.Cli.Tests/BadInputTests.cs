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
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), "{}");
        var result = await f.Cli.RunAsync("list");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"no repository is configured in {f.Dir.Combine("lifeboat.json")}", result.Error, StringComparison.Ordinal);
        Assert.Contains("lifeboat repo init --repo URL", result.Error, StringComparison.Ordinal);
    }

    /// <summary>Issue 18, item 5: with no configuration in the working directory the hint says how to name one.</summary>
    [Fact]
    public async Task Without_a_configuration_file_the_hint_names_config_and_LIFEBOAT_CONFIG()
    {
        Assert.SkipWhen(File.Exists("/etc/lifeboat/lifeboat.json"), "this machine has /etc/lifeboat/lifeboat.json, which lifeboat would use");
        using var f = new CliFixture();
        foreach (var args in new[] { new[] { "list" }, ["backup", "--source", "app"] })
        {
            var result = await f.Cli.RunAsync(args);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal(
                $"lifeboat: no configuration file: {f.Dir.Combine("lifeboat.json")} does not exist, nor /etc/lifeboat/lifeboat.json\n"
                + "hint: name the configuration with `lifeboat --config FILE …` or the LIFEBOAT_CONFIG variable (`export LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.json`), or create one here with `lifeboat repo init --repo URL`\n",
                result.Error);
        }
    }

    /// <summary>Issue 18, item 5: a restore into a directory this OS user cannot write is exit 2 naming the path and the user.</summary>
    [Fact]
    public async Task A_restore_into_a_directory_the_user_cannot_write_exits_2_naming_the_path_and_the_user()
    {
        Assert.SkipUnless(Peers.IsRoot && File.Exists("/usr/sbin/runuser"), "needs root and runuser to run lifeboat as nobody");
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        // A working directory nobody may write (the catalog goes next to the configuration), a restore parent it may not.
        var work = f.Dir.Dir("nobody");
        File.Copy(f.Dir.Combine("lifeboat.json"), Path.Combine(work, "lifeboat.json"));
        File.SetUnixFileMode(Path.Combine(work, "lifeboat.json"), (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(work, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(f.Dir.Path, (UnixFileMode)0b111_101_101);
        using (var chmod = System.Diagnostics.Process.Start("chmod", ["-R", "a+rX", f.RepoPath, f.Source])!)
        {
            await chmod.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        // A restore takes a shared lock: nobody writes its lock object.
        Directory.CreateDirectory(Path.Combine(f.RepoPath, "locks"));
        File.SetUnixFileMode(Path.Combine(f.RepoPath, "locks"), (UnixFileMode)0b111_111_111);

        var locked = f.Dir.Dir("locked");
        File.SetUnixFileMode(locked, (UnixFileMode)0b111_101_101);
        var to = Path.Combine(locked, "restored");

        var info = new System.Diagnostics.ProcessStartInfo("runuser") { WorkingDirectory = work, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-u", "nobody", "--", "dotnet", LifeboatProcess.Dll, "--config", Path.Combine(work, "lifeboat.json"), "restore", "--source", "app", "--to", to })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["DOTNET_CLI_HOME"] = work;
        info.Environment["HOME"] = work;
        info.Environment["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase;
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {await stdout}{stderr}");
        Assert.Equal(
            $"lifeboat: permission denied: OS user 'nobody' cannot create the restore directory {to}\n"
            + $"hint: let 'nobody' create {to} (chown or chmod it, or the directory above it), or run lifeboat as a user that may (the PostgreSQL OS user, or root)\n",
            stderr);
        Assert.False(Directory.Exists(to));
    }

    /// <summary>Issue 18, item 5: a mistyped command or option is one error with the nearest word, not System.CommandLine's list.</summary>
    [Theory]
    [InlineData("bakup", "unknown command 'bakup' (did you mean 'backup'?)", "`lifeboat --help` lists the commands")]
    [InlineData("--config x.json bakup --source app", "unknown command 'bakup' (did you mean 'backup'?)", "`lifeboat --help` lists the commands")]
    [InlineData("repo inti --repo /tmp/x", "unknown command 'repo inti' (did you mean 'repo init'?)", "`lifeboat repo --help` lists its commands")]
    [InlineData("frobnicate", "unknown command 'frobnicate'", "`lifeboat --help` lists the commands")]
    [InlineData("backup --sorce app", "unknown option '--sorce' (did you mean '--source'?)", "see `lifeboat backup --help`")]
    [InlineData("list --confg x.json", "unknown option '--confg' (did you mean '--config'?)", "see `lifeboat list --help`")]
    [InlineData("repo", "`lifeboat repo` needs a command: init, key, unlock, rebuild-index, target", "`lifeboat repo --help` describes them")]
    public async Task A_mistyped_command_is_one_error_with_the_nearest_word(string line, string message, string hint)
    {
        using var f = new CliFixture();
        var result = await f.Cli.RunAsync(line.Split(' '));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"lifeboat: {message}\nhint: {hint}\n", result.Error);
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
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("there is no backup 20260101-000000-0000", missing.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 19, item 9: a backup id that names no backup is bad input (exit 2) with one message for every command and
    /// kind of source; a cluster's and a database's are in Cluster/ClusterBadInputTests.
    /// </summary>
    [Fact]
    public async Task A_nonexistent_backup_id_exits_2_with_one_message_for_every_command_and_kind()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var etc = f.Dir.Dir("etc");
        File.WriteAllText(Path.Combine(etc, "app.conf"), "x = 1\n");
        await f.Cli.OkAsync("source", "add-config", "settings", "--path", etc);
        await f.Cli.OkAsync("backup", "--source", "app");
        await f.Cli.OkAsync("backup", "--source", "settings");
        const string Id = "20260101-000000-0000";
        var expected = $"lifeboat: there is no backup {Id} in {f.RepoUrl}\nhint: `lifeboat list` shows the backups (`lifeboat list --source NAME` those of one source)\n";
        string[][] commands =
        [
            ["info", Id],
            ["restore", "--source", "app", "--to", "r1", "--backup", Id],
            ["restore", "--source", "settings", "--to", "r2", "--backup", Id],
            ["verify", "--backup", Id],
            ["pin", Id],
            ["forget", Id],
            ["drill", "--source", "app", "--backup", Id],
        ];
        foreach (var args in commands)
        {
            var result = await f.Cli.RunAsync(args);
            Assert.True(result.ExitCode == 2, $"lifeboat {string.Join(' ', args)}: {result}");
            Assert.Equal(expected, result.Error);
        }

        var json = await f.Cli.RunAsync("info", Id, "--json");
        Assert.Equal(2, json.ExitCode);
        Assert.Equal("NoSuchBackup", JsonDocument.Parse(json.Out).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.False(Directory.Exists(f.Dir.Combine("r1")));
        Assert.False(Directory.Exists(f.Dir.Combine("r2")));
    }

    [Fact]
    public async Task Restoring_an_unknown_stack_exits_2_naming_the_configured_stacks_and_a_configured_one_without_backups_says_to_back_it_up()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("stack", "add", "shop", "--sources", "app");
        var unknown = await f.Cli.RunAsync("restore", "--stack", "nope", "--to", "r");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("there is no stack 'nope' in ", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("(configured: shop)", unknown.Error, StringComparison.Ordinal);
        NoStackTrace(unknown);

        var empty = await f.Cli.RunAsync("restore", "--stack", "shop", "--to", "r");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("stack 'shop' has no stack backup", empty.Error, StringComparison.Ordinal);
        Assert.Contains("lifeboat backup --stack shop", empty.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(f.Dir.Combine("r")));
    }

    /// <summary>Issue 19, item 9: `repo init` into a non-empty directory that holds no repository is refused; an empty or a missing directory is fine.</summary>
    [Fact]
    public async Task Repo_init_into_a_non_empty_directory_without_a_repository_exits_2_naming_it_and_changes_nothing()
    {
        using var f = new CliFixture();
        var entries = Directory.EnumerateFileSystemEntries(f.Source).Count();
        var before = Directory.EnumerateFileSystemEntries(f.Source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        var result = await f.Cli.RunAsync("repo", "init", "--repo", "file://" + f.Source);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(
            $"lifeboat: the directory {f.Source} is not empty and is not a Lifeboat repository: it holds {entries} entries and no repository `config`\n"
            + "hint: choose an empty or a new directory for the new repository (`repo init` creates a missing one), or name the directory of an existing repository\n",
            result.Error);
        NoStackTrace(result);
        Assert.Equal(before, Directory.EnumerateFileSystemEntries(f.Source, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList());
        Assert.False(File.Exists(f.Dir.Combine("lifeboat.json")));

        // A key file named on the command line is not created either.
        var keyFile = f.Dir.Combine("new.key");
        var withKey = await f.Cli.RunAsync("repo", "init", "--repo", "file://" + f.Source, "--key-file", keyFile);
        Assert.Equal(2, withKey.ExitCode);
        Assert.False(File.Exists(keyFile));

        // An empty directory and a missing one are fine.
        var empty = f.Dir.Dir("empty-repo");
        await f.Cli.OkAsync("repo", "init", "--repo", "file://" + empty);
        Assert.True(File.Exists(Path.Combine(empty, "config")));
        using var g = new CliFixture(withTree: false);
        await g.Cli.OkAsync("repo", "init", "--repo", g.RepoUrl);
        Assert.True(File.Exists(Path.Combine(g.RepoPath, "config")));
    }

    /// <summary>Issue 19, item 9: an unknown setting is named with its JSON path and the nearest known one; nothing runs.</summary>
    [Fact]
    public async Task An_unknown_setting_exits_2_naming_its_path_and_the_nearest_known_setting()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var config = f.Dir.Combine("lifeboat.json");
        var text = File.ReadAllText(config);
        var root = System.Text.Json.Nodes.JsonNode.Parse(text)!.AsObject();
        root["Sources"]!["app"]!["Retention"] = new System.Text.Json.Nodes.JsonObject { ["KeepDaly"] = 7 };
        File.WriteAllText(config, root.ToJsonString());
        var expected = $"lifeboat: the configuration file {config} has an unknown setting `Sources.app.Retention.KeepDaly`: Lifeboat has no setting 'KeepDaly' there (did you mean `Sources.app.Retention.KeepDaily`?)\n"
            + "hint: rename it to KeepDaily, or remove it (docs/configuration.md lists the settings)\n";
        var list = await f.Cli.RunAsync("list");
        Assert.Equal(2, list.ExitCode);
        Assert.Equal(expected, list.Error);
        var result = await f.Cli.RunAsync("backup", "--source", "app");
        Assert.Equal(2, result.ExitCode);
        Assert.EndsWith(expected, result.Error, StringComparison.Ordinal);
        NoStackTrace(result);
        Assert.False(Directory.Exists(Path.Combine(f.RepoPath, "backups")) && Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Any());
    }

    /// <summary>
    /// Issue 19, item 9: a files source whose path is a symlink to a directory is followed at the root (the backup holds
    /// the directory's contents, as tar -h and restic do); symlinks inside the tree stay symlinks. A symlink to nothing
    /// or to a file is refused naming both.
    /// </summary>
    [Fact]
    public async Task A_symlinked_source_directory_is_followed_at_the_root_and_links_inside_stay_links()
    {
        using var f = new CliFixture(withTree: false);
        var real = f.Dir.Dir("real");
        File.WriteAllText(Path.Combine(real, "a.txt"), "alpha");
        Directory.CreateDirectory(Path.Combine(real, "sub"));
        File.WriteAllText(Path.Combine(real, "sub", "b.txt"), "beta");
        File.CreateSymbolicLink(Path.Combine(real, "inner"), "a.txt");
        Directory.CreateSymbolicLink(Path.Combine(real, "subdir-link"), "sub");
        var link = f.Dir.Combine("uploads");
        Directory.CreateSymbolicLink(link, real);

        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        await f.Cli.OkAsync("source", "add-files", "app", "--path", link);
        await f.Cli.OkAsync("backup", "--source", "app");
        var to = f.Dir.Combine("restored");
        await f.Cli.OkAsync("restore", "--source", "app", "--to", to);
        Assert.Null(new DirectoryInfo(to).LinkTarget);
        Assert.Equal("alpha", File.ReadAllText(Path.Combine(to, "a.txt")));
        Assert.Equal("beta", File.ReadAllText(Path.Combine(to, "sub", "b.txt")));
        Assert.Equal("a.txt", new FileInfo(Path.Combine(to, "inner")).LinkTarget);
        Assert.Equal("sub", new FileInfo(Path.Combine(to, "subdir-link")).LinkTarget);

        // A second backup of the unchanged tree reads nothing again.
        await f.Cli.OkAsync("backup", "--source", "app");

        var dangling = f.Dir.Combine("dangling");
        File.CreateSymbolicLink(dangling, f.Dir.Combine("nowhere"));
        var missing = await f.Cli.RunAsync("source", "add-files", "gone", "--path", dangling);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains($"the path of source 'gone', {dangling}, is a symlink to {f.Dir.Combine("nowhere")}, which does not exist", missing.Error, StringComparison.Ordinal);
        var toFile = f.Dir.Combine("to-file");
        File.CreateSymbolicLink(toFile, Path.Combine(real, "a.txt"));
        var file = await f.Cli.RunAsync("source", "add-files", "file", "--path", toFile);
        Assert.Equal(2, file.ExitCode);
        Assert.Contains("which is not a directory", file.Error, StringComparison.Ordinal);
    }

    /// <summary>Issue 19, item 9: `source add-config --path` of a path that names nothing is exit 2 naming the path and why, and changes nothing.</summary>
    [Fact]
    public async Task Adding_a_config_source_whose_path_names_nothing_exits_2_naming_the_path_and_why()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var config = f.Dir.Combine("lifeboat.json");
        var before = File.ReadAllText(config);
        var etc = f.Dir.Dir("etc");
        var notThere = Path.Combine(etc, "app.env");
        var file = Path.Combine(etc, "real.conf");
        File.WriteAllText(file, "x = 1\n");
        var underFile = Path.Combine(file, "x");
        var dangling = Path.Combine(etc, "dangling.conf");
        File.CreateSymbolicLink(dangling, Path.Combine(etc, "nowhere.conf"));
        const string Hint = "hint: create it, or fix the path (`source add-config NAME --path FILE_OR_DIR`, or Sources:settings:Paths in the configuration file)\n";
        foreach (var (path, why) in new[]
                 {
                     (notThere, $"the path {notThere} of config source 'settings' does not exist"),
                     (underFile, $"the path {underFile} of config source 'settings' cannot be used: cannot read the metadata of {underFile}: Not a directory"),
                     (dangling, $"the path {dangling} of config source 'settings' is a symlink to {Path.Combine(etc, "nowhere.conf")}, which does not exist"),
                 })
        {
            var result = await f.Cli.RunAsync("source", "add-config", "settings", "--path", file, "--path", path);
            Assert.Equal(2, result.ExitCode);
            Assert.Equal($"lifeboat: {why}\n{Hint}", result.Error);
            NoStackTrace(result);
            Assert.Equal(before, File.ReadAllText(config));
        }
    }
}
