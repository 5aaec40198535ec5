using System.Diagnostics;

namespace Lifeboat.Cli.Tests;

/// <summary>
/// Issue 18, item 1: one documented install that works on a fresh host — scripts/install.sh, and a Native AOT
/// executable that works copied alone (SQLite linked in, no libe_sqlite3.so beside it).
/// </summary>
public sealed class InstallTests : IDisposable
{
    /// <summary>Set to 1 to publish (scripts/publish.sh, minutes of Native AOT compilation) and run the copied executable.</summary>
    public const string PublishFlag = "LIFEBOAT_TEST_PUBLISH";

    /// <summary>An executable published already (skips the publish): the test copies it alone into an empty directory.</summary>
    public const string PublishedVariable = "LIFEBOAT_TEST_PUBLISHED";

    private readonly TempDir _dir = new("lifeboat-install-");

    public void Dispose() => _dir.Dispose();

    private static string Root => PeerPaths.RepositoryRoot ?? throw new InvalidOperationException("the tests run outside the repository (no Lifeboat.slnx above them)");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Install_script_puts_the_program_a_private_config_directory_and_a_serve_unit_in_place()
    {
        Assert.SkipUnless(Peers.IsRoot, "install.sh sets owners: run the tests as root");
        Peers.Require(File.Exists("/etc/passwd") && File.ReadAllText("/etc/passwd").Contains("\npostgres:", StringComparison.Ordinal), "the postgres OS user (Debian: postgresql)");
        var binary = _dir.Combine("lifeboat-build");
        await File.WriteAllTextAsync(binary, "#!/bin/sh\necho 9.9.9\n", Ct);
        File.SetUnixFileMode(binary, (UnixFileMode)0b111_101_101);
        var destdir = _dir.Dir("root");

        var first = await RunAsync("bash", [Path.Combine(Root, "scripts", "install.sh"), "--binary", binary], new() { ["DESTDIR"] = destdir });
        Assert.True(first.ExitCode == 0, first.ToString());
        var program = Path.Combine(destdir, "usr/local/bin/lifeboat");
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(program));
        Assert.Equal("#!/bin/sh\necho 9.9.9\n", await File.ReadAllTextAsync(program, Ct));
        Assert.Contains("9.9.9", first.Out, StringComparison.Ordinal);

        var etc = Path.Combine(destdir, "etc/lifeboat");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(etc));
        Assert.Equal("postgres", await OwnerAsync(etc));

        var unit = await File.ReadAllTextAsync(Path.Combine(destdir, "etc/systemd/system/lifeboat.service"), Ct);
        Assert.Contains("ExecStart=/usr/local/bin/lifeboat serve\n", unit, StringComparison.Ordinal);
        Assert.Contains("User=postgres\n", unit, StringComparison.Ordinal);
        Assert.Contains("Environment=LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.json\n", unit, StringComparison.Ordinal);
        Assert.Contains("WantedBy=multi-user.target", unit, StringComparison.Ordinal);

        // Again (an upgrade): a new executable, the configuration directory and what it holds are kept, its mode put right.
        var config = Path.Combine(etc, "lifeboat.json");
        await File.WriteAllTextAsync(config, "{}", Ct);
        File.SetUnixFileMode(etc, (UnixFileMode)0b111_111_101);
        await File.WriteAllTextAsync(binary, "#!/bin/sh\necho 10.0.0\n", Ct);
        var again = await RunAsync("bash", [Path.Combine(Root, "scripts", "install.sh"), "--binary", binary], new() { ["DESTDIR"] = destdir });
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("10.0.0", await File.ReadAllTextAsync(program, Ct), StringComparison.Ordinal);
        Assert.Equal("{}", await File.ReadAllTextAsync(config, Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(etc));

        var noUser = await RunAsync("bash", [Path.Combine(Root, "scripts", "install.sh"), "--binary", binary, "--user", "no-such-user"], new() { ["DESTDIR"] = destdir });
        Assert.Equal(2, noUser.ExitCode);
        Assert.Contains("there is no OS user 'no-such-user'", noUser.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_published_executable_works_copied_alone_into_an_empty_directory()
    {
        var given = Environment.GetEnvironmentVariable(PublishedVariable);
        Assert.SkipWhen(Environment.GetEnvironmentVariable(PublishFlag) != "1" && string.IsNullOrEmpty(given), $"set {PublishFlag}=1 (a Native AOT publish: minutes) or {PublishedVariable}=FILE to run it");
        var published = given;
        if (string.IsNullOrEmpty(published))
        {
            var output = _dir.Combine("dist");
            var publish = await RunAsync("bash", [Path.Combine(Root, "scripts", "publish.sh"), output], [], TimeSpan.FromMinutes(60));
            Assert.True(publish.ExitCode == 0, publish.ToString());
            published = Path.Combine(output, "lifeboat");
        }

        // Only the executable, in a directory of its own; a minimal environment (what PostgreSQL's archiver has).
        var bin = _dir.Dir("bin");
        var lifeboat = Path.Combine(bin, "lifeboat");
        File.Copy(published, lifeboat);
        Assert.Equal(["lifeboat"], Directory.EnumerateFileSystemEntries(bin).Select(Path.GetFileName));
        var ldd = await RunAsync("ldd", [lifeboat], []);
        Assert.DoesNotContain("sqlite", ldd.Out, StringComparison.Ordinal);

        var work = _dir.Dir("work");
        var data = _dir.Dir("data");
        await File.WriteAllTextAsync(Path.Combine(data, "a.txt"), "first file\n", Ct);
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        await File.WriteAllBytesAsync(Path.Combine(data, "sub", "b.bin"), TestData.Random(300_000, 7), Ct);
        var env = new Dictionary<string, string> { ["HOME"] = work, ["PATH"] = "/usr/bin:/bin" };
        var config = Path.Combine(work, "lifeboat.json");

        async Task<CliResult> Lifeboat(params string[] args)
        {
            var result = await RunAsync("env", ["-i", .. env.Select(kv => $"{kv.Key}={kv.Value}"), lifeboat, "--config", config, .. args], [], TimeSpan.FromMinutes(5), work);
            Assert.True(result.ExitCode == 0, $"lifeboat {string.Join(' ', args)}: {result}");
            return result;
        }

        await Lifeboat("repo", "init", "--repo", "file://" + Path.Combine(work, "repo"), "--key-file", Path.Combine(work, "repo.key"));
        await Lifeboat("source", "add-files", "web", "--path", data);
        await Lifeboat("backup", "--source", "web");
        var list = await Lifeboat("list");
        Assert.Contains("web", list.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(work, "lifeboat.db")), "the SQLite catalog was not written");
        var restored = Path.Combine(work, "restored");
        await Lifeboat("restore", "--source", "web", "--to", restored);
        Assert.Equal("first file\n", await File.ReadAllTextAsync(Path.Combine(restored, "a.txt"), Ct));
        Assert.Equal(TestData.Random(300_000, 7), await File.ReadAllBytesAsync(Path.Combine(restored, "sub", "b.bin"), Ct));
        await Lifeboat("verify", "--read-data");
    }

    private static async Task<string> OwnerAsync(string path) => (await RunAsync("stat", ["-c", "%U", path], [])).Out.Trim();

    private static async Task<CliResult> RunAsync(string program, IEnumerable<string> arguments, Dictionary<string, string> environment, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? Path.GetTempPath() };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
