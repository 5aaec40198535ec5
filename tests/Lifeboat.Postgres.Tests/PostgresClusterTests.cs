using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Postgres.Tests;

public sealed class PostgresClusterTests(InitdbCluster cluster) : IDisposable
{
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Configured_settings_are_read_back_by_PostgreSQL_exactly()
    {
        var source = cluster.Require();
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        var pgdata = _dir.Dir("pgdata");
        File.SetUnixFileMode(pgdata, (UnixFileMode)0b111_000_000);
        foreach (var file in new[] { "PG_VERSION", "postgresql.conf", "postgresql.auto.conf" })
        {
            File.Copy(Path.Combine(source, file), Path.Combine(pgdata, file));
        }

        PostgresCluster.ChownForServer(pgdata, PostgresCluster.DefaultOsUser);
        await using var attached = PostgresCluster.Attach(pgdata, PgBinaries.Process.NewestServer);
        var archiveCommand = $"/usr/bin/lifeboat --config {RecoveryConfig.ShellQuote("/tmp/it's \\ here.json")} wal-push --source app-db %p";

        attached.Configure(new Dictionary<string, string> { ["archive_mode"] = "on", ["archive_command"] = archiveCommand });

        var result = await ProcessRunner.RunAsync(attached.ToolPath("postgres"), ["-D", pgdata, "-C", "archive_command"], attached.OsUser, null, TimeSpan.FromMinutes(1), Ct);
        Assert.True(result.Success, result.Error);
        Assert.Equal(archiveCommand + "\n", result.Output);
    }
}
