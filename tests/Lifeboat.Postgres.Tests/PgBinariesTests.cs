using Lifeboat.Postgres.Tools;

namespace Lifeboat.Postgres.Tests;

/// <summary>The lookup order of PostgreSQL's programs, over a fake /usr/lib/postgresql of empty executables.</summary>
public sealed class PgBinariesTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = [];

    private readonly TempDir _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void Client_programs_come_from_the_newest_installed_major_that_has_them()
    {
        Install(18, "psql");
        Install(17, "pg_dump", "psql");
        Install(15, "pg_dump", "pg_restore", "psql");
        var pg = PgBinaries.For(NoEnvironment, _root.Path);

        Assert.Equal(Bin(18, "psql"), pg.Client("psql"));
        Assert.Equal(Bin(17, "pg_dump"), pg.Client("pg_dump"));
        Assert.Equal(Bin(15, "pg_restore"), pg.Client("pg_restore"));
        Assert.Equal("pg_dumpall", pg.Client("pg_dumpall")); // nowhere: the bare name, found in PATH
    }

    [Fact]
    public void Server_programs_are_those_of_the_exact_major_or_none()
    {
        Install(17, "initdb", "pg_ctl");
        Install(15, "initdb", "pg_ctl");
        Install(14, "psql"); // a client-only install is no server
        var pg = PgBinaries.For(NoEnvironment, _root.Path);

        Assert.Equal(Dir(15), pg.Server(15));
        Assert.Equal(Dir(17), pg.Server(17));
        Assert.Null(pg.Server(16));
        Assert.Null(pg.Server(14));
    }

    [Fact]
    public void A_dump_loads_into_its_own_major_else_the_newest_newer_one()
    {
        Install(18, "initdb", "pg_ctl");
        Install(16, "initdb", "pg_ctl");
        Install(14, "initdb", "pg_ctl");
        var pg = PgBinaries.For(NoEnvironment, _root.Path);

        Assert.Equal(Dir(14), pg.ServerAtLeast(14));
        Assert.Equal(Dir(18), pg.ServerAtLeast(15));
        Assert.Equal(Dir(18), pg.ServerAtLeast(18));
        Assert.Null(pg.ServerAtLeast(19));
        Assert.Null(PgBinaries.For(NoEnvironment, _root.Combine("empty")).ServerAtLeast(13));
    }

    [Fact]
    public void A_new_cluster_uses_the_newest_major_Lifeboat_backs_up()
    {
        Install(18, "initdb", "pg_ctl"); // newer than any cluster Lifeboat reads
        Install(16, "initdb"); // no pg_ctl: found, but no server to start
        Install(15, "initdb", "pg_ctl");
        var pg = PgBinaries.For(NoEnvironment, _root.Path);

        Assert.Equal(Dir(16), pg.NewestServer);
        Assert.False(pg.HasServer);

        File.Delete(Bin(16, "initdb"));
        Assert.Equal(Dir(15), pg.NewestServer);
        Assert.True(pg.HasServer);

        var none = PgBinaries.For(NoEnvironment, _root.Combine("empty"));
        Assert.Null(none.NewestServer);
        Assert.False(none.HasServer);
        Assert.Equal("initdb", PgBinaries.In(none.NewestServer, "initdb"));
    }

    [Fact]
    public void LIFEBOAT_PG_BINDIR_of_the_given_environment_is_the_directory_of_every_program()
    {
        Install(17, "initdb", "pg_ctl", "pg_dump");
        Install(15, "initdb", "pg_ctl", "pg_dump");
        var custom = _root.Combine("custom", "bin");
        var pg = PgBinaries.For(new Dictionary<string, string?> { [PgBinaries.Variable] = custom }, _root.Path);

        Assert.Equal(custom, pg.Override);
        Assert.Equal(Path.Combine(custom, "pg_dump"), pg.Client("pg_dump"));
        Assert.Equal(Path.Combine(custom, "pg_amcheck"), pg.Client("pg_amcheck")); // even a program it does not hold
        Assert.Equal(custom, pg.Server(15));
        Assert.Equal(custom, pg.Server(13));
        Assert.Equal(custom, pg.ServerAtLeast(16));
        Assert.Equal(custom, pg.NewestServer);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void An_empty_LIFEBOAT_PG_BINDIR_is_no_override(string? value)
    {
        Install(15, "pg_dump");
        var pg = PgBinaries.For(new Dictionary<string, string?> { [PgBinaries.Variable] = value }, _root.Path);

        Assert.Null(pg.Override);
        Assert.Equal(Bin(15, "pg_dump"), pg.Client("pg_dump"));
    }

    [Fact]
    public void The_given_environment_is_the_only_one_read()
    {
        // Whatever the test process's LIFEBOAT_PG_BINDIR (CI sets it), an environment without it has no override.
        Assert.Null(PgBinaries.For(NoEnvironment, _root.Path).Override);
        Assert.Equal(Environment.GetEnvironmentVariable(PgBinaries.Variable) is { Length: > 0 } v ? v : null, PgBinaries.Process.Override);
    }

    [Fact]
    public void The_searched_majors_run_from_the_newest_down_and_clusters_stop_at_the_newest_supported()
    {
        Assert.Equal([18, 17, 16, 15, 14, 13], PgBinaries.Majors);
        Assert.True(PgBinaries.IsSupportedCluster(13));
        Assert.True(PgBinaries.IsSupportedCluster(17));
        Assert.False(PgBinaries.IsSupportedCluster(12));
        Assert.False(PgBinaries.IsSupportedCluster(18));
    }

    private string Dir(int major) => _root.Combine(major.ToString(System.Globalization.CultureInfo.InvariantCulture), "bin");

    private string Bin(int major, string program) => Path.Combine(Dir(major), program);

    private void Install(int major, params string[] programs)
    {
        Directory.CreateDirectory(Dir(major));
        foreach (var program in programs)
        {
            File.WriteAllText(Bin(major, program), "#!/bin/sh\nexit 0\n");
            File.SetUnixFileMode(Bin(major, program), (UnixFileMode)0b111_101_101);
        }
    }
}
