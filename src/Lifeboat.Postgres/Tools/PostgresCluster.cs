using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lifeboat.Core;
using Lifeboat.Platform;
using Npgsql;

namespace Lifeboat.Postgres.Tools;

/// <summary>
/// A PostgreSQL cluster Lifeboat starts itself: the demo's, a drill's scratch cluster, a restored cluster under test.
/// Listens on 127.0.0.1 on a free port with its socket in its own directory; runs as the PostgreSQL OS user when
/// Lifeboat runs as root. <see cref="DisposeAsync"/> stops it (immediate) so no scratch server outlives its owner.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(5);

    private PostgresCluster(string dataDirectory, int port, string? osUser)
    {
        DataDirectory = dataDirectory;
        Port = port;
        OsUser = osUser;
        LogFile = dataDirectory.TrimEnd('/') + ".log";
    }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>The OS user PostgreSQL runs as (null: the current user).</summary>
    public string? OsUser { get; }

    public string LogFile { get; }

    public bool Running { get; private set; }

    /// <summary>Where PostgreSQL's programs are: $LIFEBOAT_PG_BINDIR, else Debian's /usr/lib/postgresql/15/bin, else PATH.</summary>
    public static string BinDir
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable("LIFEBOAT_PG_BINDIR");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }

            foreach (var version in new[] { "17", "16", "15", "14", "13" })
            {
                var dir = $"/usr/lib/postgresql/{version}/bin";
                if (File.Exists(Path.Combine(dir, "initdb")))
                {
                    return dir;
                }
            }

            return "";
        }
    }

    public static bool Available => File.Exists(Tool("initdb")) && File.Exists(Tool("pg_ctl"));

    public static string Tool(string name) => BinDir.Length == 0 ? name : Path.Combine(BinDir, name);

    /// <summary>The OS user to run PostgreSQL as: "postgres" when Lifeboat runs as root, else the current user.</summary>
    public static string? DefaultOsUser => Unix.IsRoot ? "postgres" : null;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Creates a new cluster with initdb (data checksums on, trust authentication on loopback only).</summary>
    public static async Task<PostgresCluster> InitAsync(string dataDirectory, CancellationToken cancellationToken, bool dataChecksums = true)
    {
        var user = DefaultOsUser;
        Directory.CreateDirectory(dataDirectory);
        ChownForServer(dataDirectory, user);
        File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var args = new List<string> { "-D", dataDirectory, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync" };
        if (dataChecksums)
        {
            args.Add("--data-checksums");
        }

        var result = await ProcessRunner.RunAsync(Tool("initdb"), args, user, null, ToolTimeout, cancellationToken);
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"initdb failed for {dataDirectory}: {result.Error.Trim()}");
        }

        return new PostgresCluster(dataDirectory, FreePort(), user);
    }

    /// <summary>A cluster in an existing data directory (a restored one), on a new free port.</summary>
    public static PostgresCluster Attach(string dataDirectory, int? port = null) => new(dataDirectory, port ?? FreePort(), DefaultOsUser);

    /// <summary>Gives the PostgreSQL OS user a path (recursively) when Lifeboat runs as root.</summary>
    public static void ChownForServer(string path, string? user)
    {
        if (user is null)
        {
            return;
        }

        var (uid, gid) = UserIds(user);
        Unix.Lchown(path, uid, gid);
        if (Directory.Exists(path) && Unix.Lstat(path)?.Kind == FileKind.Directory)
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
            {
                Unix.Lchown(entry, uid, gid);
            }
        }
    }

    public static (long Uid, long Gid) UserIds(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length > 3 && f[0] == user)
            {
                return (long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture));
            }
        }

        throw new LifeboatException(ErrorCode.Config, $"there is no OS user '{user}'", "install PostgreSQL (it creates the postgres user)");
    }

    /// <summary>Appends settings to postgresql.auto.conf (before start).</summary>
    public void Configure(IReadOnlyDictionary<string, string> settings)
    {
        var path = Path.Combine(DataDirectory, "postgresql.auto.conf");
        var lines = settings.Select(kv => $"{kv.Key} = {Recovery.RecoveryConfig.ConfQuote(kv.Value)}");
        File.AppendAllText(path, string.Join('\n', lines) + "\n");
        ChownForServer(path, OsUser);
    }

    public async Task StartAsync(CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var options = string.Create(CultureInfo.InvariantCulture, $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{SocketDirectory}'");
        Directory.CreateDirectory(SocketDirectory);
        ChownForServer(SocketDirectory, OsUser);
        if (!File.Exists(LogFile))
        {
            File.WriteAllText(LogFile, "");
        }

        ChownForServer(LogFile, OsUser);
        var seconds = ((int)(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds).ToString(CultureInfo.InvariantCulture);
        var result = await ProcessRunner.RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-l", LogFile, "-o", options, "-w", "-t", seconds, "start"], OsUser, null, (timeout ?? TimeSpan.FromMinutes(10)) + TimeSpan.FromSeconds(30), cancellationToken);
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"PostgreSQL did not start in {DataDirectory}: {result.Error.Trim()} {result.Output.Trim()}\n{Tail(LogFile, 20)}");
        }

        Running = true;
    }

    public async Task StopAsync(CancellationToken cancellationToken, string mode = "fast")
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            Running = false;
            return;
        }

        await ProcessRunner.RunAsync(Tool("pg_ctl"), ["-D", DataDirectory, "-m", mode, "-w", "-t", "120", "stop"], OsUser, null, TimeSpan.FromMinutes(3), cancellationToken);
        Running = false;
    }

    public string SocketDirectory => DataDirectory.TrimEnd('/') + ".sock";

    public string ConnectionString(string database = "postgres") => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=false;Timeout=30";

    public async Task<T> QueryAsync<T>(string sql, CancellationToken cancellationToken, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (T)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken, string database = "postgres")
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Runs one of PostgreSQL's programs against this cluster (pgbench, pg_amcheck, pg_dump…).</summary>
    public Task<ProcessResult> RunToolAsync(string tool, IEnumerable<string> arguments, CancellationToken cancellationToken, TimeSpan? timeout = null)
        => ProcessRunner.RunAsync(Tool(tool), arguments, OsUser, new Dictionary<string, string> { ["PGHOST"] = "127.0.0.1", ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture), ["PGUSER"] = "postgres" }, timeout ?? ToolTimeout, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(CancellationToken.None, "immediate");
        }
        catch (LifeboatException)
        {
        }
    }

    private static string Tail(string path, int lines)
    {
        try
        {
            return string.Join('\n', File.ReadLines(path).TakeLast(lines));
        }
        catch (IOException)
        {
            return "";
        }
    }
}
