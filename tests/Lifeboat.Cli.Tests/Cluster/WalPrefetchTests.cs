using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Engine.UseCases.Wal;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>wal-fetch's prefetch spool (Sources:NAME:WalFetch): what recovery gets, what is never served, and cleanup.</summary>
public sealed class WalPrefetchTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void ConfigureWalFetch(ClusterFixture f, bool prefetch, string? idleTimeout = null)
    {
        var root = JsonNode.Parse(File.ReadAllText(f.ConfigPath))!.AsObject();
        var walFetch = new JsonObject { ["Prefetch"] = prefetch };
        if (idleTimeout is not null)
        {
            walFetch["IdleTimeout"] = idleTimeout;
        }

        root["Sources"]!["db"]!.AsObject()["WalFetch"] = walFetch;
        File.WriteAllText(f.ConfigPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true })); // in place: the owner stays postgres
    }

    /// <summary>The prefetcher processes started for spools under <paramref name="root"/>.</summary>
    private static List<int> Prefetchers(string root)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains("wal-prefetch", StringComparison.Ordinal) && cmdline.Contains(root, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>Writes <paramref name="segments"/> WAL segments, each with rows, each archived.</summary>
    private static async Task<List<string>> WriteSegmentsAsync(ClusterFixture f, int segments, int from = 0)
    {
        var names = new List<string>();
        for (var i = 0; i < segments; i++)
        {
            await f.ExecAsync(ClusterFixture.Invariant($"insert into t select g, md5(g::text) from generate_series({(from + i) * 1000}, {(from + i) * 1000 + 999}) g"));
            names.Add(await f.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())"));
            await f.SwitchAndWaitForArchiveAsync();
        }

        return names;
    }

    [Fact]
    public async Task A_pitr_restore_with_prefetch_recovers_the_same_data_as_without_and_leaves_no_spool_and_no_process()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int, v text)");
        await f.OkAsync("backup", "--source", "db");
        var segments = await WriteSegmentsAsync(f, 12);
        var at = await f.QueryAsync<DateTime>("select clock_timestamp()");
        var target = Lifeboat.Core.TimeParsing.ToPostgres(at);
        // The later commits must be past the target by the server's own clock.
        await Poll.UntilAsync(async () => await f.QueryAsync<DateTime>("select clock_timestamp()") > at.AddSeconds(1.1), "the server's clock is past the recovery target", Ct);
        await WriteSegmentsAsync(f, 3, from: 12);

        async Task<(long Count, string Digest, string Log)> RestoreAsync(string name, bool prefetch, params string[] extra)
        {
            ConfigureWalFetch(f, prefetch);
            var dir = f.NewDirectory(name);
            await f.OkAsync(["restore", "--source", "db", "--to", dir, "--target-time", target, "--archive-mode", "off", .. extra]);
            Assert.False(Directory.Exists(Path.Combine(dir, "pg_wal", WalSpool.DirectoryName)), "restore removes a spool left in the directory");
            var restored = await f.StartRestoredAsync(dir);
            var count = await restored.QueryAsync<long>("select count(*) from t", Ct);
            var digest = await ClusterFixture.DigestAsync(restored, "t", "id");
            await Poll.UntilAsync(() => Prefetchers(dir).Count == 0, $"no prefetcher runs for {dir}", Ct, TimeSpan.FromSeconds(30));
            Assert.False(Directory.Exists(Path.Combine(dir, "pg_wal", WalSpool.DirectoryName)), "the spool is removed when recovery ends");
            await restored.StopAsync(Ct);
            return (count, digest, File.ReadAllText(restored.LogFile));
        }

        var off = await RestoreAsync("prefetch-off", prefetch: false);
        // Into a directory with a spool left by an earlier recovery (a segment's name, not its content): removed.
        var stale = Directory.CreateDirectory(f.Dir.Combine("prefetch-on", "pg_wal", WalSpool.DirectoryName, "0123456789abcdef")).FullName;
        File.WriteAllBytes(Path.Combine(stale, segments[3]), new byte[16 * 1024 * 1024]);
        Lifeboat.Postgres.Tools.PostgresCluster.ChownForServer(f.Dir.Combine("prefetch-on"), Lifeboat.Postgres.Tools.PostgresCluster.DefaultOsUser);
        File.SetUnixFileMode(f.Dir.Combine("prefetch-on"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var on = await RestoreAsync("prefetch-on", prefetch: true, "--force");
        Assert.Equal(12_000, off.Count);
        Assert.Equal(off.Count, on.Count);
        Assert.Equal(off.Digest, on.Digest);
        Assert.DoesNotContain("restored from the prefetch spool", off.Log, StringComparison.Ordinal);
        Assert.Contains("restored from the prefetch spool", on.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_spool_serves_identical_bytes_never_a_partial_or_foreign_file_and_its_not_archived_hint_hides_nothing()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int, v text)");
        var segments = await WriteSegmentsAsync(f, 5);
        f.Cli.Environment["LIFEBOAT__Sources__db__WalFetch__IdleTimeout"] = "00:00:03";
        var pgdata = f.Dir.Dir("recovering");
        var pgWal = Directory.CreateDirectory(Path.Combine(pgdata, "pg_wal")).FullName;
        var dest = Path.Combine(pgWal, "RECOVERYXLOG");

        async Task<byte[]> DirectAsync(string segment)
        {
            var path = f.Dir.Combine("direct-" + segment);
            await f.OkAsync("wal-fetch", segment, path);
            return File.ReadAllBytes(path);
        }

        // The first fetch reads the repository and starts the prefetcher; the next segment then comes from the spool.
        var first = await f.OkAsync("wal-fetch", segments[0], dest);
        Assert.DoesNotContain("prefetch spool", first.Error, StringComparison.Ordinal);
        Assert.Equal(TestData.Sha256(await DirectAsync(segments[0])), TestData.Sha256(File.ReadAllBytes(dest)));
        var repositoryId = JsonNode.Parse(File.ReadAllText(Path.Combine(f.RepoPath, "config")))!["id"]!.GetValue<string>();
        var systemId = Lifeboat.Postgres.Control.PgControl.Read(f.PgData).SystemIdentifier;
        var spool = Path.Combine(pgWal, WalSpool.DirectoryName, WalSpool.KeyOf(repositoryId, "db", systemId, null));
        await Poll.UntilAsync(() => File.Exists(Path.Combine(spool, segments[1])), $"the prefetcher spooled {segments[1]}", Ct);
        var second = await f.OkAsync("wal-fetch", segments[1], dest);
        Assert.Contains($"lifeboat: {segments[1]} restored from the prefetch spool", second.Error, StringComparison.Ordinal);
        Assert.Equal(TestData.Sha256(await DirectAsync(segments[1])), TestData.Sha256(File.ReadAllBytes(dest)));

        // Idle: the prefetcher exits and removes its spool.
        await Poll.UntilAsync(() => Prefetchers(pgdata).Count == 0 && !Directory.Exists(spool), "the idle prefetcher exited and removed its spool", Ct, TimeSpan.FromSeconds(30));

        // A partial file (a crash before the rename), a temp file, and a file under a segment's name that is not that
        // segment are not served; a spool of another repository is not looked at. The real segments come from the repository.
        var third = await DirectAsync(segments[2]);
        Directory.CreateDirectory(spool);
        File.WriteAllBytes(Path.Combine(spool, "." + segments[2] + ".tmp"), third);
        File.WriteAllBytes(Path.Combine(spool, segments[2]), third[..(third.Length / 2)]);
        File.WriteAllBytes(Path.Combine(spool, segments[4]), await DirectAsync(segments[3])); // segment 3's bytes under 4's name
        var foreign = Directory.CreateDirectory(Path.Combine(pgWal, WalSpool.DirectoryName, WalSpool.KeyOf("another-repository", "db", systemId, null))).FullName;
        var altered = (byte[])third.Clone();
        altered[^100] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(foreign, segments[2]), altered);
        var served = await f.OkAsync("wal-fetch", segments[2], dest);
        Assert.DoesNotContain("prefetch spool", served.Error, StringComparison.Ordinal);
        Assert.Equal(TestData.Sha256(third), TestData.Sha256(File.ReadAllBytes(dest)));
        var fourth = await f.OkAsync("wal-fetch", segments[4], dest);
        Assert.DoesNotContain("prefetch spool", fourth.Error, StringComparison.Ordinal);
        Assert.Equal(TestData.Sha256(await DirectAsync(segments[4])), TestData.Sha256(File.ReadAllBytes(dest)));
        await Poll.UntilAsync(() => !Directory.Exists(foreign), "the prefetcher removed the other repository's spool", Ct, TimeSpan.FromSeconds(30));

        // "Not archived" in the spool is a hint: wal-fetch asks the repository, which has the segment once it is archived.
        await f.ExecAsync("insert into t values (-1, 'in the segment not archived yet')");
        var next = await f.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())");
        Assert.False(File.Exists(f.ArchivePathOf(next)));
        await Poll.UntilAsync(() => Prefetchers(pgdata).Count == 0 && !Directory.Exists(spool), "the idle prefetcher exited", Ct, TimeSpan.FromSeconds(30));
        Directory.CreateDirectory(spool);
        File.WriteAllText(Path.Combine(spool, next + ".missing"), "");
        var missing = await f.RunAsync("wal-fetch", next, dest + ".none");
        Assert.Equal(1, missing.ExitCode);
        await f.ExecAsync("insert into t values (-1, 'archived later')");
        await f.SwitchAndWaitForArchiveAsync();
        File.WriteAllText(Path.Combine(spool, next + ".missing"), "");
        await f.OkAsync("wal-fetch", next, dest);
        Assert.Equal(TestData.Sha256(await DirectAsync(next)), TestData.Sha256(File.ReadAllBytes(dest)));

        // Nothing is left behind once the prefetcher is idle.
        await Poll.UntilAsync(() => Prefetchers(pgdata).Count == 0 && !Directory.Exists(Path.Combine(pgWal, WalSpool.DirectoryName)), "the prefetcher exited and removed the spool", Ct, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Timeline_history_files_are_never_prefetched_and_wal_fetch_by_hand_starts_no_prefetcher()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int, v text)");
        var segments = await WriteSegmentsAsync(f, 2);
        var byHand = f.Dir.Combine("by-hand");
        await f.OkAsync("wal-fetch", segments[0], byHand);
        var pgWal = f.Dir.Dir("recovering", "pg_wal");
        var history = await f.RunAsync("wal-fetch", "00000002.history", Path.Combine(pgWal, "RECOVERYHISTORY"));
        Assert.Equal(1, history.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(pgWal, WalSpool.DirectoryName)));
        Assert.Empty(Prefetchers(f.Dir.Path));
    }
}
