using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Postgres.Tests;

/// <summary>
/// A running PostgreSQL 15 with a password-protected role "app" over TCP (scram-sha-256) and trust on the socket, shared
/// by the real-connection tests.
/// </summary>
public sealed class PasswordServer : IAsyncLifetime
{
    public const string Password = "s3cr:t pass";

    private readonly TempDir _dir = new("lifeboat-conn-");

    public PostgresCluster? Cluster { get; private set; }

    public string Home => _dir.Combine("home");

    public async ValueTask InitializeAsync()
    {
        if (!PgBinaries.Process.HasServer)
        {
            return;
        }

        var ct = TestContext.Current.CancellationToken;
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Home);
        Cluster = await PostgresCluster.InitAsync(_dir.Combine("pgdata"), PgBinaries.Process.NewestServer, ct);
        var hba = Path.Combine(Cluster.DataDirectory, "pg_hba.conf");
        File.WriteAllText(hba, "local all all trust\nhost all app 127.0.0.1/32 scram-sha-256\nhost all all 127.0.0.1/32 trust\n");
        Cluster.Configure(new Dictionary<string, string> { ["password_encryption"] = "scram-sha-256" });
        await Cluster.StartAsync(ct);
        await Cluster.ExecuteAsync($"CREATE ROLE app LOGIN PASSWORD '{Password}'", ct);
        await Cluster.ExecuteAsync("CREATE DATABASE appdb OWNER app", ct);
    }

    public PostgresCluster Require()
    {
        Peers.Require(Cluster is not null, "PostgreSQL 15 server programs");
        return Cluster!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        _dir.Dispose();
    }
}

/// <summary>One real connection per form of connection string, through Npgsql (PgServer) and through libpq (psql).</summary>
public sealed class PgConnectionTests(PasswordServer server) : IClassFixture<PasswordServer>, IDisposable
{
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private async Task<string> WhoAsync(PgConnection connection)
    {
        await using var pg = await PgServer.ConnectAsync(connection, Ct);
        await using var cmd = new Npgsql.NpgsqlCommand("select current_user || '@' || current_database()", pg.Connection);
        return (string)(await cmd.ExecuteScalarAsync(Ct))!;
    }

    /// <summary>psql as libpq sees the same connection: only the environment Lifeboat hands PostgreSQL's programs.</summary>
    private async Task<string> PsqlWhoAsync(PgConnection connection)
    {
        var psql = PgBinaries.Process.Client("psql");
        var result = await ProcessRunner.RunAsync(psql, ["-X", "-A", "-t", "-c", "select current_user || '@' || current_database()"], null, connection.LibpqEnvironment(), TimeSpan.FromMinutes(1), Ct);
        Assert.True(result.Success, result.Error);
        return result.Output.Trim();
    }

    private Dictionary<string, string?> Env(params (string Key, string Value)[] vars)
    {
        var env = new Dictionary<string, string?> { ["HOME"] = _dir.Dir("home") };
        foreach (var (k, v) in vars)
        {
            env[k] = v;
        }

        return env;
    }

    [Fact]
    public async Task Keyword_value_string_over_the_socket()
    {
        var cluster = server.Require();
        var c = PgConnection.Resolve($"host={cluster.SocketDirectory} port={cluster.Port} user=postgres dbname=appdb", Env());
        Assert.Equal("postgres@appdb", await WhoAsync(c));
        Assert.Equal("postgres@appdb", await PsqlWhoAsync(c));
    }

    [Fact]
    public async Task Uri_with_a_percent_encoded_password_over_TCP()
    {
        var cluster = server.Require();
        var c = PgConnection.Resolve($"postgresql://app:{Uri.EscapeDataString(PasswordServer.Password)}@127.0.0.1:{cluster.Port}/appdb?sslmode=disable", Env());
        Assert.Equal("app@appdb", await WhoAsync(c));
        Assert.Equal("app@appdb", await PsqlWhoAsync(c));
    }

    [Fact]
    public async Task Uri_with_a_socket_directory_and_the_password_from_pgpass()
    {
        var cluster = server.Require();
        var home = _dir.Dir("home");
        var pgpass = Path.Combine(home, ".pgpass");
        File.WriteAllText(pgpass, $"127.0.0.1:{cluster.Port}:appdb:app:{PasswordServer.Password.Replace(":", "\\:", StringComparison.Ordinal)}\n");
        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var viaPgpass = PgConnection.Resolve($"postgres://app@127.0.0.1:{cluster.Port}/appdb", Env());
        Assert.Equal("app@appdb", await WhoAsync(viaPgpass));
        Assert.Equal("app@appdb", await PsqlWhoAsync(viaPgpass));

        var socket = PgConnection.Resolve($"postgresql://postgres@{Uri.EscapeDataString(cluster.SocketDirectory)}:{cluster.Port}/postgres", Env());
        Assert.Equal("postgres@postgres", await WhoAsync(socket));
    }

    [Fact]
    public async Task Npgsql_form()
    {
        var cluster = server.Require();
        var c = PgConnection.Resolve($"Host=127.0.0.1;Port={cluster.Port};Username=app;Password='{PasswordServer.Password}';Database=appdb;Pooling=false", Env());
        Assert.Equal("app@appdb", await WhoAsync(c));
        Assert.Equal("app@appdb", await PsqlWhoAsync(c));
    }

    [Fact]
    public async Task Empty_string_and_the_PG_variables()
    {
        var cluster = server.Require();
        var c = PgConnection.Resolve("", Env(("PGHOST", "127.0.0.1"), ("PGPORT", cluster.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("PGUSER", "app"), ("PGDATABASE", "appdb"), ("PGPASSWORD", PasswordServer.Password)));
        Assert.Equal("app@appdb", await WhoAsync(c));
        Assert.Equal("app@appdb", await PsqlWhoAsync(c));
    }

    [Fact]
    public async Task Service_file_named_by_PGSERVICEFILE()
    {
        var cluster = server.Require();
        var file = _dir.Combine("pg_service.conf");
        File.WriteAllText(file, $"[shop]\nhost=127.0.0.1\nport={cluster.Port}\nuser=app\ndbname=appdb\npassword={PasswordServer.Password}\n");
        var c = PgConnection.Resolve("service=shop", Env(("PGSERVICEFILE", file)));
        Assert.Equal("app@appdb", await WhoAsync(c));
        Assert.Equal("app@appdb", await PsqlWhoAsync(c));
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_the_user_named_and_no_secret()
    {
        var cluster = server.Require();
        var c = PgConnection.Resolve($"host=127.0.0.1 port={cluster.Port} user=app dbname=appdb password=wrong-secret", Env());
        var ex = await Assert.ThrowsAsync<Core.LifeboatException>(() => WhoAsync(c));
        Assert.Contains($"app@127.0.0.1:{cluster.Port}", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", ex.Message + ex.Hint, StringComparison.Ordinal);
    }
}
