using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>wal-push and wal-fetch as archive_command and restore_command.</summary>
public sealed class WalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Wal_push_is_idempotent_refuses_other_content_and_other_clusters_and_wal_fetch_exits_1_at_the_end_of_the_archive()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t as select generate_series(1, 1000) g");
        await f.SwitchAndWaitForArchiveAsync();
        var archived = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "wal"), "0*", SearchOption.AllDirectories).Select(Path.GetFileName).Where(n => n!.Length == 24).Order().First()!;

        // Fetch it back: byte for byte what PostgreSQL wrote.
        var fetched = f.Dir.Combine("fetched");
        await f.OkAsync("wal-fetch", archived, fetched);
        var original = Path.Combine(f.PgData, "pg_wal", archived);
        if (File.Exists(original))
        {
            Assert.Equal(TestData.Sha256(File.ReadAllBytes(original)), TestData.Sha256(File.ReadAllBytes(fetched)));
        }

        // The same segment again: a warning, success, nothing rewritten.
        var copy = f.Dir.Dir("copy");
        File.Copy(fetched, Path.Combine(copy, archived));
        var archivePath = f.ArchivePathOf(archived);
        var stamp = File.GetLastWriteTimeUtc(archivePath);
        var again = await f.RunAsync("wal-push", Path.Combine(copy, archived));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("was already archived with the same content", again.Error, StringComparison.Ordinal);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(archivePath));

        // Other content under the same name: refused, the archived copy kept.
        var bytes = File.ReadAllBytes(fetched);
        bytes[^100] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(copy, archived), bytes);
        var conflict = await f.RunAsync("wal-push", Path.Combine(copy, archived));
        Assert.NotEqual(0, conflict.ExitCode);
        Assert.Contains($"WAL file {archived} is already archived", conflict.Error, StringComparison.Ordinal);
        Assert.Contains("with different content; the archived copy was kept", conflict.Error, StringComparison.Ordinal);
        await f.OkAsync("wal-fetch", archived, fetched);
        Assert.NotEqual(TestData.Sha256(bytes), TestData.Sha256(File.ReadAllBytes(fetched)));

        // WAL of another cluster (another system identifier): refused.
        await using var other = await PostgresCluster.InitAsync(f.Dir.Combine("other"), f.Cluster.BinDir, Ct);
        var foreign = Directory.EnumerateFiles(Path.Combine(other.DataDirectory, "pg_wal")).First(p => Path.GetFileName(p).Length == 24);
        var stranger = await f.RunAsync("wal-push", foreign);
        Assert.NotEqual(0, stranger.ExitCode);
        Assert.Contains("belongs to the cluster with system identifier", stranger.Error, StringComparison.Ordinal);

        // The end of the archive: exit 1, as PostgreSQL expects.
        var missing = await f.RunAsync("wal-fetch", "0000000100000000000000FF", f.Dir.Combine("nothing"));
        Assert.Equal(1, missing.ExitCode);
        Assert.False(File.Exists(f.Dir.Combine("nothing")));
        var history = await f.RunAsync("wal-fetch", "00000002.history", f.Dir.Combine("nothing"));
        Assert.Equal(1, history.ExitCode);
    }

    [Fact]
    public async Task A_backup_fails_clearly_when_its_wal_is_not_archived_in_time_and_commits_nothing()
    {
        await using var f = await ClusterFixture.StartAsync();
        f.Cli.Environment["LIFEBOAT__Sources__db__ArchiveTimeout"] = "00:00:03";
        await f.ExecAsync("alter system set archive_command = 'false'; select pg_reload_conf()");
        await Task.Delay(300, Ct);
        var backup = await f.RunAsync("backup", "--source", "db");
        Assert.Equal(1, backup.ExitCode);
        Assert.Contains("was not archived within 3 s", backup.Error, StringComparison.Ordinal);
        Assert.Contains("the backup was not committed", backup.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(f.RepoPath, "backups")) && Directory.EnumerateFiles(Path.Combine(f.RepoPath, "backups")).Any());
    }
}
