using System.Text.Json;
using Lifeboat.Platform;

namespace Lifeboat.Cli.Tests;

/// <summary>
/// Issue 19, item 8: what Lifeboat writes on a local target is private to the repository directory's owner — objects
/// 0600, directories 0700, the catalog 0600 — also in a directory that existed before `repo init`, and `check` warns
/// about a repository directory, key file or passphrase file other users can read.
/// </summary>
public sealed class PermissionTests
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = Private | UnixFileMode.UserExecute;

    private static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    /// <summary>Every file and directory below <paramref name="root"/> (not the root itself) with its mode.</summary>
    private static List<(string Path, UnixFileMode Mode)> Entries(string root)
        => Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Select(p => (p, File.GetUnixFileMode(p))).ToList();

    [Fact]
    public async Task Objects_in_a_pre_existing_repository_directory_are_0600_and_its_directories_0700()
    {
        using var f = new CliFixture();
        Directory.CreateDirectory(f.RepoPath);
        File.SetUnixFileMode(f.RepoPath, (UnixFileMode)0b111_101_101);
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        File.AppendAllText(Path.Combine(f.Source, "added.txt"), "one more file");
        await f.Cli.OkAsync("backup", "--source", "app");

        var entries = Entries(f.RepoPath);
        Assert.Contains(entries, e => e.Path.StartsWith(Path.Combine(f.RepoPath, "keys") + "/", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Path == Path.Combine(f.RepoPath, "config"));
        Assert.Contains(entries, e => e.Path.StartsWith(Path.Combine(f.RepoPath, "data") + "/", StringComparison.Ordinal) && File.Exists(e.Path));
        Assert.All(entries, e => Assert.True(e.Mode == (Directory.Exists(e.Path) ? PrivateDirectory : Private), $"{e.Path} is {Octal(e.Mode)}"));

        // The catalog, and its -wal/-shm while they exist, are the owner's only.
        var catalog = f.Dir.Combine("lifeboat.db");
        Assert.True(File.Exists(catalog));
        foreach (var file in new[] { catalog, catalog + "-wal", catalog + "-shm" }.Where(File.Exists))
        {
            Assert.True(File.GetUnixFileMode(file) == Private, $"{file} is {Octal(File.GetUnixFileMode(file))}");
        }
    }

    [Fact]
    public async Task With_GroupReadable_objects_are_0640_and_directories_0750()
    {
        using var f = new CliFixture();
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), "{\"Repository\":{\"GroupReadable\":true}}");
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");

        var entries = Entries(f.RepoPath);
        Assert.NotEmpty(entries);
        Assert.All(entries, e => Assert.True(
            e.Mode == (Directory.Exists(e.Path) ? PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute : Private | UnixFileMode.GroupRead),
            $"{e.Path} is {Octal(e.Mode)}"));
    }

    /// <summary>
    /// Root running `repo init` and `backup` in a directory the PostgreSQL OS user owns (install.md): that user must
    /// still read the config and key slots (wal-push) and write where root created directories, so new entries get the
    /// repository directory's owner.
    /// </summary>
    [Fact]
    public async Task As_root_new_objects_get_the_owner_of_the_repository_directory()
    {
        Assert.SkipUnless(Peers.IsRoot, "needs root to create files for another user");
        using var f = new CliFixture();
        Directory.CreateDirectory(f.RepoPath, PrivateDirectory);
        Unix.Lchown(f.RepoPath, 65534, 65534);
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");

        var entries = Entries(f.RepoPath);
        Assert.Contains(entries, e => e.Path == Path.Combine(f.RepoPath, "config"));
        Assert.All(entries, e => Assert.True(Unix.Lstat(e.Path) is { Uid: 65534, Gid: 65534 }, $"{e.Path} is owned by {Unix.Lstat(e.Path)?.Uid}:{Unix.Lstat(e.Path)?.Gid}"));
    }

    [Fact]
    public async Task Check_warns_about_a_world_readable_repository_directory_and_key_file()
    {
        using var f = new CliFixture();
        var keyFile = f.Dir.Combine("repo.key");
        await f.InitAsync("--key-file", keyFile);
        f.Cli.Environment.Remove("LIFEBOAT_PASSPHRASE");
        Assert.Empty(Warnings(await f.Cli.OkAsync("check", "--json")));

        File.SetUnixFileMode(f.RepoPath, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(f.RepoPath, "config"), (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(keyFile, (UnixFileMode)0b110_100_100);
        var check = await f.Cli.OkAsync("check", "--json");
        var slot = Path.GetFileName(Directory.EnumerateFiles(Path.Combine(f.RepoPath, "keys")).Single());
        Assert.Equal(
            [
                ("repository permissions",
                 $"the repository directory {f.RepoPath} is mode 0755: other local users can list it; config is mode 0644: other local users can read it",
                 $"chmod -R go-rwx {f.RepoPath} (new objects are written 0600, directories 0700)"),
                ("key file permissions",
                 $"the key file {keyFile} is mode 0644: other local users can read it, and it opens the repository",
                 $"chmod 0600 {keyFile}"),
            ],
            Warnings(check));
        Assert.DoesNotContain(slot, check.Out, StringComparison.Ordinal);

        // The same in the table, exit 0: a warning, not a failure.
        var table = await f.Cli.OkAsync("check");
        Assert.Contains($"fix key file permissions: chmod 0600 {keyFile}\n", table.Out, StringComparison.Ordinal);
        Assert.EndsWith("all checks passed (2 warning(s))\n", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_warns_about_a_group_readable_passphrase_file()
    {
        using var f = new CliFixture();
        var passphraseFile = f.Dir.Combine("passphrase");
        File.WriteAllText(passphraseFile, CliFixture.Passphrase + "\n");
        File.SetUnixFileMode(passphraseFile, (UnixFileMode)0b110_100_000);
        f.Cli.Environment.Remove("LIFEBOAT_PASSPHRASE");
        await f.InitAsync("--passphrase-file", passphraseFile);
        var check = await f.Cli.OkAsync("check", "--json");
        Assert.Equal(
            [("passphrase file permissions", $"the passphrase file {passphraseFile} is mode 0640: the group can read it, and it opens the repository", $"chmod 0600 {passphraseFile}")],
            Warnings(check));
    }

    private static List<(string, string, string)> Warnings(CliResult check)
    {
        using var doc = JsonDocument.Parse(check.Out);
        return doc.RootElement.GetProperty("checks").EnumerateArray()
            .Where(c => c.GetProperty("status").GetString() == "warning")
            .Select(c => (c.GetProperty("check").GetString()!, c.GetProperty("detail").GetString()!, c.GetProperty("fix").GetString()!))
            .ToList();
    }
}
