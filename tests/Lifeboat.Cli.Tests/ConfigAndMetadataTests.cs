using System.Text;
using System.Text.Json;
using Lifeboat.Platform;

namespace Lifeboat.Cli.Tests;

/// <summary>Config sets (secrets never shown, encrypted only, review directory) and file metadata round trips.</summary>
public sealed class ConfigAndMetadataTests
{
    private const string Secret = "sk_live_9f8e7d6c5b4a-config-secret";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_secret_in_a_config_set_appears_in_no_output_error_catalog_or_repository_object()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var etc = f.Dir.Dir("etc", "app");
        await File.WriteAllTextAsync(Path.Combine(etc, ".env"), $"STRIPE_KEY={Secret}\n", Ct);
        await File.WriteAllTextAsync(Path.Combine(etc, "appsettings.Production.json"), $"{{\"Stripe\":{{\"Key\":\"{Secret}\"}}}}", Ct);
        var outputs = new List<CliResult>
        {
            await f.Cli.RunAsync("--verbose", "source", "add-config", "settings", "--path", etc),
            await f.Cli.RunAsync("--verbose", "backup", "--source", "settings", "--json"),
            await f.Cli.RunAsync("--verbose", "backup", "--source", "settings"),
            await f.Cli.RunAsync("--verbose", "list", "--json"),
            await f.Cli.RunAsync("--verbose", "verify", "--read-data"),
            await f.Cli.RunAsync("--verbose", "restore", "--source", "settings"),
            await f.Cli.RunAsync("--verbose", "status", "--json"),
        };
        Assert.All(outputs, o => Assert.True(o.ExitCode == 0, o.ToString()));
        var id = JsonDocument.Parse(outputs[1].Out).RootElement.GetProperty("id").GetString()!;
        outputs.Add(await f.Cli.OkAsync("--verbose", "info", id));
        outputs.Add(await f.Cli.OkAsync("--verbose", "info", id, "--json"));

        // The review directory: private, the files under their original paths.
        var review = Directory.EnumerateDirectories(f.Dir.Path, "lifeboat-review-settings-*").Single();
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(review));
        Assert.Equal($"STRIPE_KEY={Secret}\n", await File.ReadAllTextAsync(Path.Combine(review, etc.TrimStart('/'), ".env"), Ct));

        // An error about a config file names the file, never its contents.
        outputs.Add(await f.Cli.RunAsync("--verbose", "restore", "--source", "settings", "--to", review));
        Assert.NotEqual(0, outputs[^1].ExitCode);

        // An unencrypted repository refuses config sets before writing anything.
        var plain = f.Dir.Combine("plain");
        var cli = new CliRunner(f.Dir.Path);
        var config = f.Dir.Combine("plain.json");
        await cli.OkAsync("--config", config, "repo", "init", "--repo", "file://" + plain, "--insecure-no-encryption");
        var refused = await cli.RunAsync("--config", config, "source", "add-config", "settings", "--path", etc);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("encrypt", refused.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(plain, "backups")) && Directory.EnumerateFiles(Path.Combine(plain, "backups")).Any());
        Assert.DoesNotContain("settings", await File.ReadAllTextAsync(config, Ct), StringComparison.Ordinal);
        outputs.Add(refused);

        foreach (var o in outputs)
        {
            Assert.DoesNotContain(Secret, o.All, StringComparison.Ordinal);
        }

        var needle = Encoding.UTF8.GetBytes(Secret);
        foreach (var file in Directory.EnumerateFiles(f.Dir.Path, "*", SearchOption.AllDirectories).Where(p => !p.StartsWith(etc, StringComparison.Ordinal) && !p.StartsWith(review, StringComparison.Ordinal)))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} contains the secret");
        }
    }

    [Fact]
    public async Task File_metadata_round_trips_with_hard_links_symlinks_empty_directories_and_times()
    {
        using var f = new CliFixture(withTree: false);
        var root = f.Source;
        Directory.CreateDirectory(Path.Combine(root, "empty", "nested"));
        Directory.CreateDirectory(Path.Combine(root, "docs"));
        await File.WriteAllTextAsync(Path.Combine(root, "docs", "a.txt"), "alpha", Ct);
        Unix.Link(Path.Combine(root, "docs", "a.txt"), Path.Combine(root, "docs", "a-link.txt"));
        File.CreateSymbolicLink(Path.Combine(root, "latest"), "docs/a.txt");
        await File.WriteAllTextAsync(Path.Combine(root, "script.sh"), "#!/bin/sh\n", Ct);
        File.SetUnixFileMode(Path.Combine(root, "script.sh"), (UnixFileMode)0b111_101_000);
        File.SetUnixFileMode(Path.Combine(root, "docs"), (UnixFileMode)0b111_010_000);
        var mtime = new DateTime(2024, 2, 29, 12, 34, 56, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(Path.Combine(root, "docs", "a.txt"), mtime);
        if (Unix.IsRoot)
        {
            Unix.Lchown(Path.Combine(root, "script.sh"), 65534, 65534);
        }

        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var to = f.Dir.Combine("restored");
        await f.Cli.OkAsync("restore", "--source", "app", "--to", to);

        Assert.True(Directory.Exists(Path.Combine(to, "empty", "nested")));
        Assert.Equal("alpha", await File.ReadAllTextAsync(Path.Combine(to, "docs", "a-link.txt"), Ct));
        Assert.Equal(Unix.Lstat(Path.Combine(to, "docs", "a.txt"))!.Value.Inode, Unix.Lstat(Path.Combine(to, "docs", "a-link.txt"))!.Value.Inode);
        Assert.Equal("docs/a.txt", new FileInfo(Path.Combine(to, "latest")).LinkTarget);
        Assert.Equal((UnixFileMode)0b111_101_000, File.GetUnixFileMode(Path.Combine(to, "script.sh")));
        Assert.Equal((UnixFileMode)0b111_010_000, File.GetUnixFileMode(Path.Combine(to, "docs")));
        Assert.Equal(mtime, File.GetLastWriteTimeUtc(Path.Combine(to, "docs", "a.txt")));
        if (Unix.IsRoot)
        {
            Assert.Equal(65534L, Unix.Lstat(Path.Combine(to, "script.sh"))!.Value.Uid);
        }

        // Unchanged, the tree is backed up again without reading a file.
        var again = JsonDocument.Parse((await f.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement;
        Assert.Equal(0L, again.GetProperty("stats").GetProperty("bytesRead").GetInt64());
    }

    [Fact]
    public async Task A_socket_in_a_file_tree_is_a_warning_named_in_the_backup_and_the_backup_exits_0()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(f.Source, "app.sock")));
        const string Warning = "app.sock: socket ignored (a socket cannot be backed up; the program that listens on it creates it again)";

        var backup = await f.Cli.OkAsync("backup", "--source", "app", "--json");
        Assert.Equal($"lifeboat: warning: {Warning}\n", backup.Error);
        var root = JsonDocument.Parse(backup.Out).RootElement;
        Assert.Equal(0, root.GetProperty("problems").GetArrayLength());
        Assert.Equal(Warning, root.GetProperty("warnings")[0].GetString());
        Assert.Equal("app.sock", root.GetProperty("details").GetProperty("socketsIgnored")[0].GetString());
        Assert.Equal("1 socket(s) ignored", root.GetProperty("tags").GetProperty("socketsIgnored").GetString());
    }
}
