namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// Restored copies stay out of their source's WAL archive (issue 18, item 4): a copy gets archive_mode = off by default,
/// and wal-push refuses the WAL of a copy even when its archiving is turned back on; preserve and the source's own
/// PGDATA keep archiving.
/// </summary>
public sealed class RestoredCopyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<ClusterFixture> BackedUpAsync()
    {
        var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int); insert into t select generate_series(1, 100)");
        await f.OkAsync("backup", "--source", "db");
        await f.ExecAsync("insert into t select generate_series(101, 200)");
        await f.SwitchAndWaitForArchiveAsync();
        return f;
    }

    private static async Task<bool> HasTimelineAsync(ClusterFixture f, int timeline)
        => (await f.OkAsync("list", "--source", "db", "--json")).Out.Contains($"\"timeline\": {timeline}", StringComparison.Ordinal);

    /// <summary>The README's restore example: the promoted copy used to push its 00000002.history into the source's archive.</summary>
    [Fact]
    public async Task A_copy_restored_as_the_readme_shows_does_not_archive_its_new_timeline_into_the_source_even_with_archiving_turned_back_on()
    {
        await using var f = await BackedUpAsync();
        var copy = f.NewDirectory("pg-restored");
        var restore = await f.OkAsync("restore", "--source", "db", "--to", copy);
        var promoted = await f.StartRestoredAsync(copy);
        Assert.Equal(200L, await promoted.QueryAsync<long>("select count(*) from t", Ct));
        Assert.True(File.Exists(Path.Combine(copy, "pg_wal", "00000002.history")), "the copy was promoted to timeline 2");
        Assert.Equal("off", await promoted.QueryAsync<string>("show archive_mode", Ct));
        Assert.Contains("archiving is off in this copy (archive_mode = off): it does not archive into the WAL archive of 'db'", restore.Out, StringComparison.Ordinal);
        var mark = File.ReadAllText(Path.Combine(copy, "lifeboat_restored_copy"));
        Assert.Contains("source: db\n", mark, StringComparison.Ordinal);
        Assert.Contains("archive mode: off\n", mark, StringComparison.Ordinal);

        // Someone turns archiving back on in the copy: its archive_command (the source's) runs, and wal-push refuses.
        await promoted.StopAsync(Ct);
        promoted.Configure(new Dictionary<string, string> { ["archive_mode"] = "on" });
        await promoted.StartAsync(Ct);
        Assert.Equal("on", await promoted.QueryAsync<string>("show archive_mode", Ct));
        await promoted.ExecuteAsync("insert into t values (201); select pg_switch_wal()", Ct);
        for (var waited = 0; await promoted.QueryAsync<long>("select failed_count from pg_stat_archiver", Ct) == 0; waited += 50)
        {
            Assert.True(waited < 60_000, $"the copy's archiver did not try within 60 s:\n{promoted.LogTail()}");
            await Task.Delay(50, Ct);
        }

        Assert.Equal(0L, await promoted.QueryAsync<long>("select archived_count from pg_stat_archiver", Ct));
        Assert.Contains("a restored copy of source 'db'", File.ReadAllText(promoted.LogFile), StringComparison.Ordinal);
        Assert.False(File.Exists(f.ArchivePathOf("00000002.history")), "the copy's timeline history reached the source's archive");
        Assert.False(await HasTimelineAsync(f, 2), "list shows a timeline 2 for the production source");

        // wal-push as archive_command runs it (in the copy's PGDATA, %p = pg_wal/FILE): exit 2, the reason and the way out.
        var asArchiver = new CliRunner(copy);
        var refused = await asArchiver.RunAsync("--config", f.ConfigPath, "wal-push", "--source", "db", "pg_wal/00000002.history");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"WAL file 00000002.history comes from {copy}, a restored copy of source 'db'", refused.Error, StringComparison.Ordinal);
        Assert.Contains("it was not archived into the WAL archive of source 'db'", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"point the source at it (Sources:db:PgData = {copy})", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--archive-mode preserve", refused.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(f.ArchivePathOf("00000002.history")));

        // The copy becomes production: the source points at it, and its WAL is accepted.
        asArchiver.Environment["LIFEBOAT__Sources__db__PgData"] = copy;
        await asArchiver.OkAsync("--config", f.ConfigPath, "wal-push", "--source", "db", "pg_wal/00000002.history");
        Assert.True(File.Exists(f.ArchivePathOf("00000002.history")));
    }

    [Fact]
    public async Task A_copy_restored_with_archive_mode_preserve_archives_its_timeline_into_the_source_as_asked()
    {
        await using var f = await BackedUpAsync();
        var copy = f.NewDirectory("promoted");
        var restore = await f.OkAsync("restore", "--source", "db", "--to", copy, "--archive-mode", "preserve");
        Assert.Contains("archiving as in 'db' (--archive-mode preserve): once promoted, its new timeline is archived into the WAL archive of 'db'", restore.Out, StringComparison.Ordinal);
        Assert.Contains("archive mode: preserve\n", File.ReadAllText(Path.Combine(copy, "lifeboat_restored_copy")), StringComparison.Ordinal);
        var promoted = await f.StartRestoredAsync(copy);
        Assert.Equal("on", await promoted.QueryAsync<string>("show archive_mode", Ct));
        await f.SwitchAndWaitForArchiveAsync(promoted);
        Assert.True(File.Exists(f.ArchivePathOf("00000002.history")));
        Assert.True(await HasTimelineAsync(f, 2));
    }

    [Fact]
    public async Task A_restore_into_the_sources_own_pgdata_keeps_archiving_and_leaves_no_mark()
    {
        await using var f = await BackedUpAsync();
        await f.Cluster.StopAsync(Ct);
        var restore = await f.OkAsync("restore", "--source", "db", "--to", f.PgData, "--force", "--json");
        Assert.Contains("\"archiveMode\": \"preserve\"", restore.Out, StringComparison.Ordinal);
        Assert.Contains("\"restoredCopy\": false", restore.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(f.PgData, "lifeboat_restored_copy")));
        await f.Cluster.StartAsync(Ct);
        for (var waited = 0; await f.QueryAsync<bool>("select pg_is_in_recovery()"); waited += 50)
        {
            Assert.True(waited < 120_000, $"{f.PgData} did not leave recovery within 120 s");
            await Task.Delay(50, Ct);
        }

        Assert.Equal(200L, await f.QueryAsync<long>("select count(*) from t"));
        await f.SwitchAndWaitForArchiveAsync();
        Assert.True(File.Exists(f.ArchivePathOf("00000002.history")), "the source's own PGDATA continues its archive on timeline 2");
    }

    [Fact]
    public async Task A_stack_restore_turns_archiving_off_in_its_clusters_by_default()
    {
        await using var f = await BackedUpAsync();
        var files = f.Dir.Dir("uploads");
        File.WriteAllText(Path.Combine(files, "a.txt"), "a");
        await f.OkAsync("source", "add-files", "uploads", "--path", files);
        await f.OkAsync("stack", "add", "shop", "--sources", "db,uploads");
        await f.OkAsync("backup", "--stack", "shop");
        var to = f.NewDirectory("shop-restored");
        await f.OkAsync("restore", "--stack", "shop", "--to", to);
        Assert.Contains("archive_mode = 'off'", File.ReadAllText(Path.Combine(to, "db", "postgresql.auto.conf")), StringComparison.Ordinal);
        Assert.Contains("archive mode: off\n", File.ReadAllText(Path.Combine(to, "db", "lifeboat_restored_copy")), StringComparison.Ordinal);
    }
}
