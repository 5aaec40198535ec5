using Lifeboat.Postgres.Tools;

[assembly: AssemblyFixture(typeof(Lifeboat.Postgres.Tests.InitdbCluster))]

namespace Lifeboat.Postgres.Tests;

/// <summary>
/// One data directory made by initdb (with data checksums; the server is never started), shared by the tests of this
/// assembly. Tests only read it; a test that changes files works on a copy of its tree (<see cref="SkeletonTo"/>).
/// </summary>
public sealed class InitdbCluster : IAsyncLifetime
{
    private readonly TempDir _dir = new("lifeboat-initdb-");

    public string DataDirectory => _dir.Combine("pgdata");

    /// <summary>The first WAL segment initdb writes.</summary>
    public string FirstSegment => Path.Combine(DataDirectory, "pg_wal", "000000010000000000000001");

    /// <summary>The major version initdb wrote to PG_VERSION.</summary>
    public int MajorVersion => int.Parse(File.ReadAllText(Path.Combine(DataDirectory, "PG_VERSION")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask InitializeAsync()
    {
        if (!PgBinaries.Process.HasServer)
        {
            return;
        }

        // As root, initdb runs as the postgres OS user, which must be able to reach the data directory.
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        await PostgresCluster.InitAsync(DataDirectory, PgBinaries.Process.NewestServer, CancellationToken.None);
    }

    /// <summary>Skips the test without PostgreSQL (fails it on CI); returns the data directory.</summary>
    public string Require()
    {
        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 server programs");
        return DataDirectory;
    }

    /// <summary>One of the server programs the fixture's cluster was created with (the test process's lookup).</summary>
    public static string Tool(string program) => PgBinaries.In(PgBinaries.Process.NewestServer, program);

    /// <summary>
    /// Recreates the data directory's tree (every directory, every file name) at <paramref name="destination"/>, with empty
    /// files: enough for code that only looks at names, and much faster than copying the contents.
    /// </summary>
    public void SkeletonTo(string destination) => Skeleton(Require(), destination);

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Skeleton(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Create(Path.Combine(destination, Path.GetFileName(file))).Dispose();
        }

        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            Skeleton(directory, Path.Combine(destination, Path.GetFileName(directory)));
        }
    }
}
