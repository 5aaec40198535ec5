using System.Globalization;
using Lifeboat.Engine.Cluster;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Testing;

/// <summary>
/// A real PostgreSQL 15 cluster started by the test (as the postgres OS user when the tests run as root), archiving
/// into an encrypted local repository with `lifeboat wal-push`, and a configuration with a cluster source "db".
/// Everything lives in one temp directory, removed (servers stopped) on dispose.
/// </summary>
public sealed class ClusterFixture : IAsyncDisposable
{
    private readonly List<PostgresCluster> _clusters = [];

    private ClusterFixture(TempDir dir, PostgresCluster cluster)
    {
        Dir = dir;
        Cluster = cluster;
        _clusters.Add(cluster);
        Cli = new CliRunner(dir.Path);
    }

    public TempDir Dir { get; }

    public PostgresCluster Cluster { get; }

    public CliRunner Cli { get; }

    public string ConfigPath => Dir.Combine("lifeboat.json");

    public string RepoPath => Dir.Combine("repo");

    public string PgData => Cluster.DataDirectory;

    public static bool Available => PgBinaries.Process.HasServer;

    public static async Task<ClusterFixture> StartAsync(bool archiving = true, bool dataChecksums = true)
    {
        Peers.Require(Available, "PostgreSQL 15 (initdb, pg_ctl in /usr/lib/postgresql/15/bin)");
        var ct = TestContext.Current.CancellationToken;
        var dir = new TempDir("lifeboat-pg-");
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_101_101);
        var cluster = await PostgresCluster.InitAsync(dir.Combine("pgdata"), PgBinaries.Process.NewestServer, ct, dataChecksums);
        var fixture = new ClusterFixture(dir, cluster);
        await fixture.Cli.OkAsync("repo", "init", "--repo", "file://" + fixture.RepoPath, "--key-file", dir.Combine("repo.key"), "--pack-size", "8MiB");
        var user = PostgresCluster.DefaultOsUser;
        if (archiving)
        {
            cluster.Configure(new Dictionary<string, string>
            {
                ["archive_mode"] = "on",
                ["archive_command"] = LifeboatCommand.ArchiveCommand(LifeboatCommand.Self(new Dictionary<string, string?>()), fixture.ConfigPath, "db"),
                ["archive_timeout"] = "60s",
                ["checkpoint_timeout"] = "30min",
            });
        }

        // Configure everything before the server starts: a failing archive_command would make PostgreSQL's archiver
        // back off for a minute. (add-cluster warns that the server is not reachable yet; that is expected here.)
        await fixture.Cli.OkAsync("source", "add-cluster", "db", "--pgdata", cluster.DataDirectory, "--conn", cluster.ConnectionString());
        // archive_command and restore_command run as the server's OS user.
        PostgresCluster.ChownForServer(fixture.RepoPath, user);
        PostgresCluster.ChownForServer(dir.Combine("repo.key"), user);
        PostgresCluster.ChownForServer(fixture.ConfigPath, user);
        await cluster.StartAsync(ct);
        return fixture;
    }

    /// <summary>Runs `lifeboat` in-process with this fixture's configuration.</summary>
    public Task<CliResult> RunAsync(params string[] args) => Cli.RunAsync(["--config", ConfigPath, .. args]);

    public async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"lifeboat {string.Join(' ', args)} failed:\n{result}");
        return result;
    }

    public Task ExecAsync(string sql) => Cluster.ExecuteAsync(sql, TestContext.Current.CancellationToken);

    public Task<T> QueryAsync<T>(string sql) => Cluster.QueryAsync<T>(sql, TestContext.Current.CancellationToken);

    /// <summary>Switches to a new WAL segment and waits until the finished one is in the archive.</summary>
    public async Task SwitchAndWaitForArchiveAsync(PostgresCluster? cluster = null)
    {
        cluster ??= Cluster;
        var ct = TestContext.Current.CancellationToken;
        var segment = await cluster.QueryAsync<string>("select pg_walfile_name(pg_switch_wal())", ct);
        var path = ArchivePathOf(segment);
        for (var waited = 0; !File.Exists(path); waited += 50)
        {
            Assert.True(waited < 60_000, $"WAL segment {segment} was not archived within 60 s; see {cluster.LogFile}:\n{string.Join('\n', File.ReadLines(cluster.LogFile).TakeLast(15))}");
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Where wal-push stores a segment (repository format, WAL archive).</summary>
    public string ArchivePathOf(string segment)
    {
        var sysid = Lifeboat.Postgres.Control.PgControl.Read(PgData).SystemIdentifier.ToString(CultureInfo.InvariantCulture);
        return segment.EndsWith(".history", StringComparison.Ordinal)
            ? Path.Combine(RepoPath, "wal", "db", sysid, segment)
            : Path.Combine(RepoPath, "wal", "db", sysid, segment[..16], segment);
    }

    /// <summary>Starts a restored data directory on a free port and waits until it accepts queries outside recovery.</summary>
    public async Task<PostgresCluster> StartRestoredAsync(string dataDirectory, bool waitForPromotion = true)
    {
        var ct = TestContext.Current.CancellationToken;
        var restored = PostgresCluster.Attach(dataDirectory, Cluster.BinDir);
        _clusters.Add(restored);
        await restored.StartAsync(ct);
        if (waitForPromotion)
        {
            try
            {
                for (var waited = 0; await restored.QueryAsync<bool>("select pg_is_in_recovery()", ct); waited += 50)
                {
                    Assert.True(waited < 120_000, $"{dataDirectory} did not leave recovery within 120 s");
                    await Task.Delay(50, ct);
                }
            }
            catch (Npgsql.NpgsqlException ex)
            {
                Assert.Fail($"the restored cluster in {dataDirectory} stopped: {ex.Message}\n{string.Join('\n', File.ReadLines(restored.LogFile).TakeLast(25))}");
            }
        }

        return restored;
    }

    /// <summary>A digest of a table's rows, in a fixed order.</summary>
    public static Task<string> DigestAsync(PostgresCluster cluster, string table, string orderBy)
        => cluster.QueryAsync<string>($"select coalesce(md5(string_agg(t::text, '|' order by {orderBy})), 'empty') from {table} t", TestContext.Current.CancellationToken);

    public string NewDirectory(string name)
    {
        var path = Dir.Combine(name);
        return path;
    }

    public static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var cluster in _clusters)
        {
            await cluster.DisposeAsync();
        }

        Dir.Dispose();
    }
}
