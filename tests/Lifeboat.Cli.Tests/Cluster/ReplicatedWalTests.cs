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
        // A file no target has, while the primary cannot be read: a secondary may lag behind the primary, so its "not
        // archived" is not the end of the archive — recovery must stop (exit above 125), not end early and promote.
        var unknown = await f.RunAsync("wal-fetch", "0000000100000000000000FF", f.Dir.Combine("nothing"));
        Assert.True(unknown.ExitCode > 125, unknown.ToString());
        Assert.Contains("WAL file 0000000100000000000000FF could not be looked up on target primary, the first to answer for the archive, and the others do not have it", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("target offsite: not archived", unknown.Error, StringComparison.Ordinal);
        Assert.Contains("restore with --from NAME", unknown.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(f.Dir.Combine("nothing")));

        // Read from a named target first, its "not archived" is the end of the archive (exit 1, as PostgreSQL expects).
        var end = await f.RunAsync("wal-fetch", "--from", "offsite", "0000000100000000000000FF", f.Dir.Combine("nothing"));
        Assert.Equal(1, end.ExitCode);
        Assert.Contains("0000000100000000000000FF is not in the archive", end.Error, StringComparison.Ordinal);
        Directory.Move(f.RepoPath + ".lost", f.RepoPath);
    }

    [Fact]
    public async Task A_cluster_restored_while_the_primary_is_lost_reads_its_wal_from_the_secondary_it_restored_from_and_recovers_every_commit()
    {
        await using var f = await ClusterFixture.StartAsync();
        var offsite = f.Dir.Combine("offsite");
        await f.OkAsync("repo", "target", "add", "offsite", "file://" + offsite, "--manual");
        PostgresCluster.ChownForServer(offsite, PostgresCluster.DefaultOsUser);
        PostgresCluster.ChownForServer(f.ConfigPath, PostgresCluster.DefaultOsUser);
        await f.ExecAsync("create table t (id int)");
        await f.OkAsync("backup", "--source", "db");
        await f.OkAsync("replicate", "--to", "offsite");
        await f.ExecAsync("insert into t select generate_series(1, 250)");
        await f.SwitchAndWaitForArchiveAsync();

        // The primary repository is gone (the disaster): restore falls back to offsite, and so must recovery's WAL.
        Directory.Move(f.RepoPath, f.RepoPath + ".lost");
        try
        {
            var dir = f.NewDirectory("restored");
            var restore = await f.OkAsync("restore", "--source", "db", "--to", dir, "--archive-mode", "off");
            Assert.Contains("target primary", restore.Error, StringComparison.Ordinal);
            Assert.Contains("wal-fetch --source db --from offsite %f %p", File.ReadAllText(Path.Combine(dir, "postgresql.auto.conf")), StringComparison.Ordinal);
            var restored = await f.StartRestoredAsync(dir);
            Assert.Equal(250, await restored.QueryAsync<long>("select count(*) from t", TestContext.Current.CancellationToken));
            await restored.StopAsync(TestContext.Current.CancellationToken);
        }
        finally
        {
            Directory.Move(f.RepoPath + ".lost", f.RepoPath);
        }
    }
}
