using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>WAL with several targets: pushed to every target, a failing one reported and caught up, fetched from any.</summary>
public sealed class ReplicatedWalTests
{
    [Fact]
    public async Task Wal_push_writes_every_target_a_target_that_is_down_does_not_stop_archiving_and_wal_fetch_falls_back()
    {
        await using var f = await ClusterFixture.StartAsync();
        var offsite = f.Dir.Combine("offsite");
        var broken = f.Dir.Combine("broken");
        await f.OkAsync("repo", "target", "add", "offsite", "file://" + offsite, "--manual");
        await f.OkAsync("repo", "target", "add", "broken", "file://" + broken, "--manual");
        PostgresCluster.ChownForServer(offsite, PostgresCluster.DefaultOsUser);
        PostgresCluster.ChownForServer(f.ConfigPath, PostgresCluster.DefaultOsUser);
        Directory.Move(broken, broken + ".away");
        File.WriteAllText(broken, "not a directory");

        // archive_command succeeds (the primary has the file) and the healthy secondary has it too.
        await f.ExecAsync("create table t as select generate_series(1, 1000) g");
        await f.SwitchAndWaitForArchiveAsync();
        var segment = Path.GetFileName(Directory.EnumerateFiles(Path.Combine(f.RepoPath, "wal"), "0*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p).Length == 24).Order(StringComparer.Ordinal).First());
        var relative = Path.GetRelativePath(f.RepoPath, f.ArchivePathOf(segment));
        Assert.Equal(File.ReadAllBytes(f.ArchivePathOf(segment)), File.ReadAllBytes(Path.Combine(offsite, relative)));

        // Run by hand: exit 0, the broken target named.
        var copy = Path.Combine(f.Dir.Dir("copy"), segment);
        await f.OkAsync("wal-fetch", segment, copy);
        var push = await f.OkAsync("wal-push", copy);
        Assert.Contains($"WAL file {segment} is archived in the primary target but not in target 'broken'", push.Error, StringComparison.Ordinal);
        Assert.Contains("`lifeboat replicate --to broken` catches it up", push.Error, StringComparison.Ordinal);

        // Back up: replication catches up every WAL file it missed.
        File.Delete(broken);
        Directory.Move(broken + ".away", broken);
        var caughtUp = await f.OkAsync("replicate", "--to", "broken");
        Assert.Matches(@"target broken: copied 0 backup\(s\), 0 pack\(s\), 0 index object\(s\), [1-9]\d* WAL file\(s\)", caughtUp.Out);
        Assert.True(File.Exists(Path.Combine(broken, relative)));

        // The primary gone: wal-fetch reads the next target; --from reads the named one first.
        Directory.Move(f.RepoPath, f.RepoPath + ".lost");
        var fetched = f.Dir.Combine("fetched");
        var fallback = await f.OkAsync("wal-fetch", segment, fetched);
        Assert.Contains("lifeboat: target primary:", fallback.Error, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(copy), File.ReadAllBytes(fetched));
        File.Delete(fetched);
        await f.OkAsync("wal-fetch", "--from", "broken", segment, fetched);
        Assert.Equal(File.ReadAllBytes(copy), File.ReadAllBytes(fetched));
        var end = await f.RunAsync("wal-fetch", "0000000100000000000000FF", f.Dir.Combine("nothing"));
        Assert.Equal(1, end.ExitCode);
        Assert.Contains("0000000100000000000000FF is not in the archive", end.Error, StringComparison.Ordinal);
        Directory.Move(f.RepoPath + ".lost", f.RepoPath);
    }
}
