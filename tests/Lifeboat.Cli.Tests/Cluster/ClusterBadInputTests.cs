namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>Issue 19, item 9: bad input to cluster and database restores is exit 2 before anything is written.</summary>
public sealed class ClusterBadInputTests
{
    [Fact]
    public async Task A_timeline_that_does_not_exist_and_a_nonexistent_backup_id_exit_2_and_write_nothing()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table t (id int); insert into t values (1)");
        await f.OkAsync("backup", "--source", "db");
        await f.SwitchAndWaitForArchiveAsync();
        await f.OkAsync("source", "add-database", "pg", "--conn", f.Cluster.ConnectionString(), "--database", "postgres");
        await f.OkAsync("backup", "--source", "pg");

        // --target-timeline N: only a timeline the backups or the archive have.
        var nine = f.NewDirectory("nine");
        var timeline = await f.RunAsync("restore", "--source", "db", "--to", nine, "--target-timeline", "9");
        Assert.Equal(2, timeline.ExitCode);
        Assert.Equal(
            "lifeboat: there is no timeline 9 in the backups and archived WAL of source 'db' (timelines: 1); nothing was written\n"
            + "hint: use --target-timeline latest, current or one of 1 (`lifeboat list --source db` shows each timeline's recoverable window)\n",
            timeline.Error);
        Assert.False(Directory.Exists(nine));
        var one = await f.RunAsync("restore", "--source", "db", "--to", f.NewDirectory("one"), "--target-timeline", "1");
        Assert.True(one.ExitCode == 0, one.ToString());

        // A backup id that names no backup: the same exit code and message as for files (BadInputTests).
        const string Id = "20260101-000000-0000";
        var expected = $"lifeboat: there is no backup {Id} in file://{f.RepoPath}\nhint: `lifeboat list` shows the backups (`lifeboat list --source NAME` those of one source)\n";
        string[][] commands =
        [
            ["restore", "--source", "db", "--to", f.NewDirectory("r1"), "--backup", Id],
            ["restore", "--source", "db", "--database", "postgres", "--into", "copy1", "--backup", Id],
            ["restore", "--source", "pg", "--database", "postgres", "--into", "copy2", "--backup", Id],
            ["drill", "--source", "db", "--backup", Id],
            ["info", Id],
        ];
        foreach (var args in commands)
        {
            var result = await f.RunAsync(args);
            Assert.True(result.ExitCode == 2, $"lifeboat {string.Join(' ', args)}: {result}");
            Assert.Equal(expected, result.Error);
        }

        Assert.False(Directory.Exists(f.NewDirectory("r1")));
        Assert.False(await f.QueryAsync<bool>("select exists (select from pg_database where datname in ('copy1', 'copy2'))"));
    }
}
