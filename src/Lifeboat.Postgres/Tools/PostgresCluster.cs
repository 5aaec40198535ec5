using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
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

    private PostgresCluster(string dataDirectory, string? binDir, int port, string? osUser, bool socketOnly = false)
    {
        BinDir = binDir;
        DataDirectory = dataDirectory;
        Port = port;
        OsUser = osUser;
        SocketOnly = socketOnly;
        LogFile = dataDirectory.TrimEnd('/') + ".log";
    }

    /// <summary>No TCP listener: clients connect through the Unix socket in <see cref="SocketDirectory"/> only.</summary>
    public bool SocketOnly { get; }

    public string DataDirectory { get; }

    public int Port { get; }

    /// <summary>The OS user PostgreSQL runs as (null: the current user).</summary>
    public string? OsUser { get; }

    public string LogFile { get; }

    /// <summary>The last lines of the server log (for error messages).</summary>
    public string LogTail(int lines = 20) => Tail(LogFile, lines);

    public bool Running { get; private set; }

    /// <summary>The directory of the server programs this cluster runs with (null: found in PATH); see <see cref="PgBinaries"/>.</summary>
    public string? BinDir { get; }

    /// <summary>The OS user to run PostgreSQL as: "postgres" when Lifeboat runs as root, else the current user.</summary>
    public static string? DefaultOsUser => Unix.IsRoot ? "postgres" : null;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Creates a new cluster with initdb (data checksums on, trust authentication on loopback only) with the server
    /// programs in <paramref name="binDir"/> (null: PATH), typically <see cref="PgBinaries.NewestServer"/>.
    /// </summary>
    public static async Task<PostgresCluster> InitAsync(string dataDirectory, string? binDir, CancellationToken cancellationToken, bool dataChecksums = true)
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

        var result = await ProcessRunner.RunAsync(PgBinaries.In(binDir, "initdb"), args, user, null, ToolTimeout, cancellationToken);
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"initdb failed for {dataDirectory}: {result.Error.Trim()}");
        }

        return new PostgresCluster(dataDirectory, binDir, FreePort(), user);
    }

    /// <summary>
    /// A cluster in an existing data directory (a restored one), on a new free port, run with the server programs in
    /// <paramref name="binDir"/> (null: PATH): those of its own major (<see cref="PgBinaries.Server(int)"/>).
    /// </summary>
    public static PostgresCluster Attach(string dataDirectory, string? binDir, int? port = null, bool socketOnly = false) => new(dataDirectory, binDir, port ?? FreePort(), DefaultOsUser, socketOnly);

    /// <summary>One of this cluster's programs (from <see cref="BinDir"/>).</summary>
    public string ToolPath(string name) => PgBinaries.In(BinDir, name);

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

    public Task StartAsync(CancellationToken cancellationToken, TimeSpan? timeout = null) => StartAsync(new StartOptions { Timeout = timeout }, cancellationToken);

    /// <summary>
    /// Starts the server with pg_ctl and waits until it accepts connections (a server in recovery: until it is
    /// consistent and open for read-only queries). Throws with the end of the server log when it does not start.
    /// </summary>
    public async Task StartAsync(StartOptions start, CancellationToken cancellationToken)
    {
        // pg_ctl hands these to the postmaster through /bin/sh: values are shell-quoted.
        var options = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"-p {Port} -c listen_addresses={(SocketOnly ? "''" : "127.0.0.1")} -c unix_socket_directories={Recovery.RecoveryConfig.ShellQuote(SocketDirectory)}"));
        foreach (var (key, value) in start.Settings)
        {
            options.Append(" -c ").Append(key).Append('=').Append(Recovery.RecoveryConfig.ShellQuote(value));
        }

        Directory.CreateDirectory(SocketDirectory);
        ChownForServer(SocketDirectory, OsUser);
        File.SetUnixFileMode(SocketDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (!File.Exists(LogFile))
        {
            File.WriteAllText(LogFile, "");
        }

        ChownForServer(LogFile, OsUser);
        var timeout = start.Timeout ?? TimeSpan.FromMinutes(10);
        var seconds = ((int)Math.Max(1, timeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var program = start.Wrapper.Count > 0 ? start.Wrapper[0] : ToolPath("pg_ctl");
        var arguments = start.Wrapper.Count > 0 ? [.. start.Wrapper.Skip(1), ToolPath("pg_ctl")] : new List<string>();
        arguments.AddRange(["-D", DataDirectory, "-l", LogFile, "-o", options.ToString(), "-w", "-t", seconds, "start"]);
        var result = await ProcessRunner.RunAsync(program, arguments, OsUser, null, timeout + TimeSpan.FromSeconds(30), cancellationToken);
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"PostgreSQL did not start in {DataDirectory}: {result.Error.Trim()} {result.Output.Trim()}\n{Tail(LogFile, 20)}");
        }

        Running = true;
    }

    /// <summary>The postmaster's process id from postmaster.pid, when that process exists.</summary>
    public int? PostmasterPid()
    {
        try
        {
            var first = File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}") ? pid : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken, string mode = "fast")
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            Running = false;
            return;
        }

        await ProcessRunner.RunAsync(ToolPath("pg_ctl"), ["-D", DataDirectory, "-m", mode, "-w", "-t", "120", "stop"], OsUser, null, TimeSpan.FromMinutes(3), cancellationToken);
        Running = false;
    }

    public string SocketDirectory => DataDirectory.TrimEnd('/') + ".sock";

    public string ConnectionString(string database = "postgres")
        => new NpgsqlConnectionStringBuilder { Host = SocketOnly ? SocketDirectory : "127.0.0.1", Port = Port, Username = "postgres", Database = database, Pooling = false, Timeout = 30 }.ConnectionString;

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
        => ProcessRunner.RunAsync(ToolPath(tool), arguments, OsUser, new Dictionary<string, string> { ["PGHOST"] = SocketOnly ? SocketDirectory : "127.0.0.1", ["PGPORT"] = Port.ToString(CultureInfo.InvariantCulture), ["PGUSER"] = "postgres" }, timeout ?? ToolTimeout, cancellationToken);

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

/// <summary>How <see cref="PostgresCluster.StartAsync(StartOptions, CancellationToken)"/> starts the server.</summary>
public sealed record StartOptions
{
    /// <summary>Settings passed with -c: they override postgresql.conf and postgresql.auto.conf.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    /// <summary>Programs pg_ctl runs under (for example nice -n 10 ionice -c 3): the server inherits their priority.</summary>
    public IReadOnlyList<string> Wrapper { get; init; } = [];

    /// <summary>How long pg_ctl waits for the server to accept connections (default 10 minutes).</summary>
    public TimeSpan? Timeout { get; init; }
}
