using System.Globalization;
using System.Text.Json;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// Issue 18, item 3: `check` as the server sees it — archive_command's program run as the data directory's owner
/// finds a configuration, key or repository that user cannot use — and "restart PostgreSQL to apply" after
/// `archiving setup --apply`.
/// </summary>
public sealed class ServerSideCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> CheckAsync(ClusterFixture f, int exitCode)
    {
        var result = await f.RunAsync("check", "--source", "db", "--json");
        Assert.True(result.ExitCode == exitCode, result.ToString());
        return JsonDocument.Parse(result.Out).RootElement;
    }

    private static JsonElement Row(JsonElement report, string check)
        => report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == check);

    [Fact]
    public async Task Check_runs_the_archive_path_as_the_server_user_and_names_what_it_cannot_read_or_write()
    {
        Assert.SkipUnless(Peers.IsRoot, "only root can make files another user cannot read (the server runs as postgres then)");
        await using var f = await ClusterFixture.StartAsync();
        var ok = Row(await CheckAsync(f, 0), "archiving as the server");
        Assert.Equal("ok", ok.GetProperty("status").GetString());
        Assert.Contains("as 'postgres' with the server's environment", ok.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The configuration written 0600 by root, as `repo init` run as root used to leave it: check fails and says so.
        PostgresCluster.ChownForServer(f.ConfigPath, "root");
        var config = Row(await CheckAsync(f, 2), "archiving as the server");
        Assert.Equal("failed", config.GetProperty("status").GetString());
        Assert.Equal($"as 'postgres' (archive_command's user), permission denied: OS user 'postgres' cannot read the configuration file {f.ConfigPath}", config.GetProperty("detail").GetString());
        Assert.StartsWith($"let 'postgres' read {f.ConfigPath}", config.GetProperty("fix").GetString(), StringComparison.Ordinal);
        PostgresCluster.ChownForServer(f.ConfigPath, "postgres");

        // The key file.
        var key = f.Dir.Combine("repo.key");
        PostgresCluster.ChownForServer(key, "root");
        var keyRow = Row(await CheckAsync(f, 2), "archiving as the server");
        Assert.Equal($"as 'postgres' (archive_command's user), permission denied: OS user 'postgres' cannot read the key file {key}", keyRow.GetProperty("detail").GetString());
        PostgresCluster.ChownForServer(key, "postgres");

        // The repository directory the WAL goes to.
        var sysid = Lifeboat.Postgres.Control.PgControl.Read(f.PgData).SystemIdentifier.ToString(CultureInfo.InvariantCulture);
        var walDir = Path.Combine(f.RepoPath, "wal", "db", sysid);
        Directory.CreateDirectory(walDir);
        PostgresCluster.ChownForServer(walDir, "root");
        File.SetUnixFileMode(walDir, (UnixFileMode)0b111_101_101);
        var repoRow = Row(await CheckAsync(f, 2), "archiving as the server");
        Assert.StartsWith("as 'postgres' (archive_command's user), permission denied: OS user 'postgres' cannot write " + walDir + "/lifeboat-probe.tmp-", repoRow.GetProperty("detail").GetString(), StringComparison.Ordinal);
        PostgresCluster.ChownForServer(walDir, "postgres");

        Assert.Equal("ok", Row(await CheckAsync(f, 0), "archiving as the server").GetProperty("status").GetString());
        Assert.Empty(Directory.EnumerateFiles(walDir, "lifeboat-probe*"));
    }

    [Fact]
    public async Task After_setup_apply_check_says_restart_PostgreSQL_not_apply_again()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var before = await CheckAsync(f, 2);
        Assert.Contains("archiving setup --source db --apply", Row(before, "archive_mode").GetProperty("fix").GetString(), StringComparison.Ordinal);

        await f.OkAsync("archiving", "setup", "--source", "db", "--apply");
        var after = await CheckAsync(f, 2);
        var mode = Row(after, "archive_mode");
        Assert.Equal("failed", mode.GetProperty("status").GetString());
        Assert.Equal("archive_mode = off; 'on' is set and waits for a restart of PostgreSQL", mode.GetProperty("detail").GetString());
        Assert.StartsWith("restart PostgreSQL to apply (Debian: systemctl restart postgresql@", mode.GetProperty("fix").GetString(), StringComparison.Ordinal);

        await f.Cluster.StopAsync(Ct);
        await f.Cluster.StartAsync(Ct);
        Assert.Equal("ok", Row(await CheckAsync(f, 0), "archive_mode").GetProperty("status").GetString());
    }
}
