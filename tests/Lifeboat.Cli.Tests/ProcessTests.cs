using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests;

/// <summary>The real program in its own process: kill -9, Ctrl-C, stale locks, memory, permissions.</summary>
public sealed partial class ProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    private static Dictionary<string, string?> Env() => new()
    {
        ["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase,
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
    };

    private static Task<CliResult> RunAsync(CliFixture f, params string[] args) => LifeboatProcess.RunAsync(f.Dir.Path, Env(), args, Timeout);

    private static void WriteBigTree(string root, int files, int size)
    {
        Directory.CreateDirectory(root);
        for (var i = 0; i < files; i++)
        {
            File.WriteAllBytes(Path.Combine(root, $"blob{i:00}.bin"), i % 2 == 0 ? TestData.Random(size, i) : TestData.Text(size, i));
        }
    }

    [Fact]
    public async Task Killing_backups_with_sigkill_at_several_points_leaves_a_repository_that_verifies_and_the_next_backup_succeeds()
    {
        using var f = new CliFixture(withTree: false);
        WriteBigTree(f.Source, 12, 16 << 20);
        await f.InitAsync("--pack-size", "4MiB");
        foreach (var delay in new[] { 250, 600, 1000, 1600 })
        {
            using var process = Process.Start(LifeboatProcess.StartInfo(f.Dir.Path, Env(), "backup", "--source", "app"))!;
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await Task.Delay(delay, TestContext.Current.CancellationToken);
            process.Kill();
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);

            var verify = await RunAsync(f, "verify");
            Assert.True(verify.ExitCode == 0, $"after kill -9 at {delay} ms: {verify}");
        }

        var backup = await RunAsync(f, "backup", "--source", "app");
        Assert.True(backup.ExitCode == 0, backup.ToString());
        var restore = await RunAsync(f, "restore", "--source", "app", "--to", "restored");
        Assert.True(restore.ExitCode == 0, restore.ToString());
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("restored")));

        // The locks of killed processes are stale; prune says so and unlock clears them.
        var prune = await RunAsync(f, "prune");
        if (prune.ExitCode != 0)
        {
            Assert.Contains("the lock is stale", prune.Error, StringComparison.Ordinal);
            Assert.Contains("lifeboat repo unlock", prune.Error, StringComparison.Ordinal);
            Assert.Equal(0, (await RunAsync(f, "repo", "unlock")).ExitCode);
            prune = await RunAsync(f, "prune");
        }

        Assert.True(prune.ExitCode == 0, prune.ToString());
        var final = await RunAsync(f, "verify", "--read-data");
        Assert.True(final.ExitCode == 0, final.ToString());
        Assert.DoesNotContain("not in the index", final.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ctrl_c_stops_a_backup_cleanly_with_exit_1_releasing_its_lock()
    {
        using var f = new CliFixture(withTree: false);
        WriteBigTree(f.Source, 16, 16 << 20);
        await f.InitAsync();
        using var process = Process.Start(LifeboatProcess.StartInfo(f.Dir.Path, Env(), "backup", "--source", "app"))!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        // Interrupt it once the backup holds its lock: the signal handler is installed long before, whereas a fixed
        // delay on a loaded machine can hit the runtime's start-up, where SIGINT still kills the process (exit 130).
        var locks = Path.Combine(f.RepoPath, "locks");
        await Poll.UntilAsync(() => process.HasExited || (Directory.Exists(locks) && Directory.EnumerateFiles(locks).Any()), "the backup holds its lock", TestContext.Current.CancellationToken);

        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var error = await stderr;
        if (process.ExitCode == 0)
        {
            return; // the backup finished before the signal arrived: nothing to check
        }

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("lifeboat: interrupted", error, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(Path.Combine(f.RepoPath, "locks")) ? Directory.EnumerateFiles(Path.Combine(f.RepoPath, "locks")) : []);
        Assert.Equal(0, (await RunAsync(f, "verify")).ExitCode);
        Assert.Equal(0, (await RunAsync(f, "prune")).ExitCode);
    }

    [Fact]
    public async Task Backing_up_a_1_GiB_file_stays_well_under_300_MiB_of_memory()
    {
        Peers.Require(File.Exists("/usr/bin/time"), "GNU time (/usr/bin/time, Debian package 'time')");
        using var f = new CliFixture(withTree: false);
        Directory.CreateDirectory(f.Source);
        await using (var file = File.Create(Path.Combine(f.Source, "huge.bin")))
        {
            var block = new byte[16 << 20];
            for (var i = 0; i < 64; i++)
            {
                new Random(i).NextBytes(block);
                await file.WriteAsync(block, TestContext.Current.CancellationToken);
            }
        }

        await f.InitAsync();
        var info = new ProcessStartInfo("/usr/bin/time") { WorkingDirectory = f.Dir.Path, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-v", "dotnet", LifeboatProcess.Dll, "backup", "--source", "app" })
        {
            info.ArgumentList.Add(a);
        }

        info.Environment["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase;
        using var process = Process.Start(info)!;
        _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var report = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, report);
        var kib = long.Parse(MaxRss().Match(report).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(kib < 300 * 1024, $"peak resident memory {kib / 1024} MiB");
    }

    [Fact]
    public async Task A_repository_the_user_cannot_read_exits_2_with_the_path()
    {
        Peers.Require(File.Exists("/usr/sbin/runuser") || File.Exists("/sbin/runuser"), "runuser");
        Assert.SkipUnless(Peers.IsRoot, "needs root to run lifeboat as another user");
        using var f = new CliFixture();
        await f.InitAsync();
        File.SetUnixFileMode(f.RepoPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var cwd = Directory.CreateTempSubdirectory("lifeboat-nobody-").FullName;
        try
        {
            File.SetUnixFileMode(cwd, (UnixFileMode)0b111_111_111);
            var info = new ProcessStartInfo("runuser") { WorkingDirectory = cwd, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in new[] { "-u", "nobody", "--", "dotnet", LifeboatProcess.Dll, "list" })
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["DOTNET_CLI_HOME"] = cwd;
            info.Environment["HOME"] = cwd;
            info.Environment["LIFEBOAT__Repository__Url"] = f.RepoUrl;
            info.Environment["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase;
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.SkipWhen(stderr.Contains("dotnet", StringComparison.Ordinal) && process.ExitCode != 2, $"dotnet cannot run as nobody here: {stderr}");
            Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}: {await stdout}{stderr}");
            Assert.Contains($"lifeboat: cannot read the repository at {f.RepoUrl}", stderr, StringComparison.Ordinal);
            Assert.Contains("permission denied", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(cwd, recursive: true);
        }
    }

    [GeneratedRegex(@"Maximum resident set size \(kbytes\): (\d+)")]
    private static partial Regex MaxRss();
}
