using System.Text.Json;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Faults;

/// <summary>
/// The kill harness over a real PostgreSQL 15 cluster (docs/reliability.md): cluster backups and wal-push killed with
/// SIGKILL after a seeded delay and before chosen renames and fsyncs. After each trial verify --read-data passes, the
/// next backup succeeds and restores (started, queried) to exactly the rows the table had when it was taken, and a
/// re-pushed segment (PostgreSQL retries archive_command) is recovered through.
/// </summary>
public sealed class KillClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cluster_backups_and_wal_pushes_killed_at_any_point_leave_a_repository_that_verifies_and_restores()
    {
        var run = new FaultRun("cluster", quickTrials: 1);
        await using var f = await ClusterFixture.StartAsync();
        // A copy of every segment the server archives, so that a wal-push can be replayed on a segment whose object is removed.
        var staging = f.Dir.Dir("staging");
        PostgresCluster.ChownForServer(staging, f.Cluster.OsUser);
        var command = await f.QueryAsync<string>("show archive_command");
        await f.ExecAsync($"alter system set archive_command = 'cp %p {staging}/%f && {command.Replace("'", "''", StringComparison.Ordinal)}'");
        await f.ExecAsync("select pg_reload_conf()");
        await f.ExecAsync("create table t (id int primary key, v text)");
        var rows = 0;
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] config = ["--config", f.ConfigPath];

        async Task<string> WriteAsync()
        {
            await f.ExecAsync($"insert into t select g, md5(g::text) from generate_series({rows + 1}, {rows + 20_000}) g");
            rows += 20_000;
            return await ClusterFixture.DigestAsync(f.Cluster, "t", "id");
        }

        async Task<string[]> BackupsAsync()
            => JsonDocument.Parse((await f.OkAsync("list", "--source", "db", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray()
                .Select(b => b.GetProperty("id").GetString()!).ToArray();

        async Task VerifyAsync(string where)
        {
            var verify = await f.RunAsync("verify", "--read-data");
            Assert.True(verify.ExitCode == 0, $"{where}: verify --read-data:\n{verify}");
        }

        async Task RestoreAsync(string where, string id, string digest, bool immediate)
        {
            var target = f.NewDirectory("restored-" + id);
            string[] args = ["restore", "--source", "db", "--backup", id, "--to", target, "--archive-mode", "off", .. immediate ? new[] { "--target", "immediate" } : []];
            var restore = await f.RunAsync(args);
            Assert.True(restore.ExitCode == 0, $"{where}: restore of {id}:\n{restore}");
            var restored = await f.StartRestoredAsync(target);
            Assert.True(digest == await ClusterFixture.DigestAsync(restored, "t", "id"), $"{where}: backup {id} restored{(immediate ? "" : " to the end of the archive")} does not hold the rows it should");
            await restored.StopAsync(Ct);
            Directory.Delete(target, recursive: true);
        }

        var digest = await WriteAsync();
        await f.OkAsync("backup", "--source", "db");
        expected[(await BackupsAsync()).Single()] = digest;

        await run.TrialsAsync(
            "cluster-backup",
            async () => digest = await WriteAsync(),
            plan => run.RunAsync("cluster-backup", plan, f.Dir.Path, new Dictionary<string, string?>(), [.. config, "backup", "--source", "db"]),
            async (where, outcome) =>
            {
                await VerifyAsync(where);
                var listed = await BackupsAsync();
                Assert.True(expected.Keys.All(listed.Contains), $"{where}: a completed backup is gone");
                foreach (var id in listed.Where(id => !expected.ContainsKey(id)))
                {
                    expected[id] = digest; // the killed run completed after all; nothing was written during it
                    if (run.Long)
                    {
                        await RestoreAsync(where, id, digest, immediate: true);
                    }
                }

                var next = await f.RunAsync("backup", "--source", "db");
                Assert.True(next.ExitCode == 0, $"{where}: the next backup:\n{next}");
                var newest = (await BackupsAsync()).Single(id => !expected.ContainsKey(id));
                expected[newest] = digest;
                await RestoreAsync(where, newest, digest, immediate: true);
            },
            [("rename", 0)],
            quickRandomTrials: 0);

        string segment = "";
        await run.TrialsAsync(
            "wal-push",
            async () =>
            {
                digest = await WriteAsync();
                segment = await f.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())");
                await f.SwitchAndWaitForArchiveAsync();
                await Poll.UntilAsync(async () => await f.QueryAsync<string?>("select last_archived_wal from pg_stat_archiver") == segment, $"PostgreSQL reports {segment} archived", Ct);

                // As if the server's wal-push of this segment had not happened yet: the object and its summary removed.
                File.Delete(f.ArchivePathOf(segment));
                File.Delete(f.ArchivePathOf(segment) + ".xact");
            },
            plan => run.RunAsync("wal-push", plan, f.Dir.Path, new Dictionary<string, string?>(), [.. config, "wal-push", "--source", "db", Path.Combine(staging, segment)]),
            async (where, outcome) =>
            {
                await VerifyAsync(where + " (before the retry)");
                // PostgreSQL retries archive_command until it exits 0: the retry must succeed whatever the kill left.
                var retry = await f.RunAsync("wal-push", "--source", "db", Path.Combine(staging, segment));
                Assert.True(retry.ExitCode == 0, $"{where}: wal-push retried after the kill:\n{retry}");
                await VerifyAsync(where + " (after the retry)");
                // Recovery passes the re-pushed segment: the newest backup restored to the end of the archive has every row.
                await RestoreAsync(where, expected.Keys.Max(StringComparer.Ordinal)!, digest, immediate: false);
            },
            [("rename", 1)],
            maxPoints: 12);

        foreach (var (id, rowsDigest) in run.Long ? expected : [])
        {
            await RestoreAsync("cluster final", id, rowsDigest, immediate: true);
        }
    }
}
