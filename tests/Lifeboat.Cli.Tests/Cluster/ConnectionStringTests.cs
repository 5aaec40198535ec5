using System.Globalization;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// Issue 18, item 2: every --conn (and every configured Connection) takes what PostgreSQL users write — libpq's
/// keyword/value form, a postgresql:// URI, Npgsql's form — and PG* variables; a malformed one is exit 2 naming the bad part.
/// </summary>
public sealed class ConnectionStringTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Libpq_keyword_value_and_uri_connections_back_up_and_restore_a_database()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var db = f.Cluster;
        var port = db.Port.ToString(CultureInfo.InvariantCulture);
        await f.ExecAsync("create database shop");
        await db.ExecuteAsync("create table items (id int primary key, name text); insert into items select g, 'item ' || g from generate_series(1, 500) g;", Ct, "shop");

        // The keyword/value form of the issue: it used to be read as one Npgsql Host value.
        var keywordValue = $"host={db.SocketDirectory} port={port} user=postgres dbname=postgres";
        var added = await f.OkAsync("source", "add-cluster", "db2", "--pgdata", db.DataDirectory, "--conn", keywordValue);
        Assert.Contains($"postgres@{db.SocketDirectory}:{port}", added.All, StringComparison.Ordinal);

        // A URI with the socket directory percent-encoded; the database comes from --database.
        var uri = $"postgresql://postgres@{Uri.EscapeDataString(db.SocketDirectory)}:{port}/postgres?application_name=lifeboat-test";
        await f.OkAsync("source", "add-database", "shop", "--conn", uri, "--database", "shop");
        await f.OkAsync("backup", "--source", "shop");

        // Restore into a new database through --conn in libpq's form.
        await f.OkAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_copy", "--conn", keywordValue);
        Assert.Equal(500L, await db.QueryAsync<long>("select count(*) from items", Ct, "shop_copy"));

        // Nothing but PG* variables: an empty connection string is libpq's defaults filled from the environment.
        f.Cli.Environment["PGHOST"] = db.SocketDirectory;
        f.Cli.Environment["PGPORT"] = port;
        f.Cli.Environment["PGUSER"] = "postgres";
        await f.OkAsync("restore", "--source", "shop", "--database", "shop", "--into", "shop_env", "--conn", "dbname=postgres");
        Assert.Equal(500L, await db.QueryAsync<long>("select count(*) from items", Ct, "shop_env"));
    }

    [Fact]
    public async Task A_malformed_conn_is_exit_2_naming_the_bad_part_and_nothing_is_added()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        var before = await File.ReadAllTextAsync(f.ConfigPath, Ct);
        foreach (var (conn, error) in new[]
                 {
                     ("host=/tmp port", "missing \"=\" after \"port\""),
                     ("hots=/tmp", "unknown connection option \"hots\" (did you mean \"host\"?)"),
                     ("postgresql://db/shop?sslmod=require", "unknown URI parameter \"sslmod\" (did you mean \"sslmode\"?)"),
                     ("postgresql://db:54x/shop", "invalid port \"54x\""),
                     ("Host=db;Prot=5432", "unknown Npgsql setting \"Prot\" (did you mean \"Port\"?)"),
                 })
        {
            var result = await f.RunAsync("source", "add-cluster", "bad", "--pgdata", f.PgData, "--conn", conn);
            Assert.True(result.ExitCode == 2, $"{conn}: {result}");
            Assert.Contains("--conn is not a valid PostgreSQL connection string: ", result.Error, StringComparison.Ordinal);
            Assert.Contains(error, result.Error, StringComparison.Ordinal);
            Assert.Equal(before, await File.ReadAllTextAsync(f.ConfigPath, Ct));
        }
    }
}
