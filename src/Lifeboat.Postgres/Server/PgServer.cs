using System.Net.Sockets;
using Lifeboat.Core;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Layout;
using Npgsql;

namespace Lifeboat.Postgres.Server;

/// <summary>What the running server says about itself.</summary>
public sealed record ServerInfo
{
    public required int VersionNum { get; init; }

    public required string Version { get; init; }

    public required string DataDirectory { get; init; }

    public required string WalLevel { get; init; }

    public required string ArchiveMode { get; init; }

    public required string ArchiveCommand { get; init; }

    public required int ArchiveTimeoutSeconds { get; init; }

    public required bool DataChecksums { get; init; }

    public required bool InRecovery { get; init; }

    public required ulong SystemIdentifier { get; init; }

    public required long WalSegmentSize { get; init; }

    public required uint Timeline { get; init; }

    public int Major => VersionNum / 10000;
}

/// <summary>pg_stat_archiver.</summary>
public sealed record ArchiverStats(long ArchivedCount, string? LastArchivedWal, DateTimeOffset? LastArchivedTime, long FailedCount, string? LastFailedWal, DateTimeOffset? LastFailedTime);

/// <summary>What pg_backup_stop returns.</summary>
public sealed record BackupStop(Lsn StopLsn, string BackupLabel, string? TablespaceMap);

/// <summary>
/// One connection to the cluster. A non-exclusive backup is tied to its session: start and stop must run on the same
/// connection, so a backup holds one <see cref="PgServer"/> from start to stop.
/// </summary>
public sealed class PgServer : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;

    private PgServer(NpgsqlConnection connection, string display)
    {
        _connection = connection;
        Display = display;
    }

    /// <summary>Host and port (or socket directory) and user, for messages; never the password.</summary>
    public string Display { get; }

    public NpgsqlConnection Connection => _connection;

    /// <summary>Connects (no pooling, a 15 s connect timeout unless the connection says otherwise); exit 2 for a refused login or a missing database, 1 when the server cannot be reached.</summary>
    public static async Task<PgServer> ConnectAsync(PgConnection target, CancellationToken cancellationToken)
    {
        var builder = target.ToNpgsql();
        builder.Pooling = false;
        builder.KeepAlive = 30;
        builder.CommandTimeout = 0;
        var display = target.Display;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState is "28P01" or "28000")
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.Config, $"PostgreSQL at {display} refused the login: {ex.MessageText}", "check the user and password in the source's connection string (or PGPASSWORD, ~/.pgpass, PGPASSFILE) and pg_hba.conf");
        }
        catch (PostgresException ex) when (ex.SqlState == "3D000")
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.Config, $"PostgreSQL at {display}: {ex.MessageText}", "name an existing database in the connection string (dbname=postgres)");
        }
        catch (NpgsqlException ex) when (ex is not PostgresException && ex.Message.Contains("No password has been provided", StringComparison.Ordinal))
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.Config, $"PostgreSQL at {display} asks for a password and none was found", "put it in ~/.pgpass (mode 0600) or the file PGPASSFILE names, or set PGPASSWORD; the password file of the OS user running lifeboat is read");
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.PostgresFailed, $"cannot connect to PostgreSQL at {display}: {Unwrap(ex)}", "is the server running and listening there? Check the host and port in the source's connection string (and PGHOST, PGPORT)");
        }

        return new PgServer(connection, display);
    }

    private static string Unwrap(Exception ex) => ex.InnerException is SocketException s ? s.Message : ex.Message;

    public async Task<ServerInfo> GetInfoAsync(CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            """
            select current_setting('server_version_num')::int,
                   current_setting('server_version'),
                   current_setting('data_directory'),
                   current_setting('wal_level'),
                   current_setting('archive_mode'),
                   current_setting('archive_command'),
                   extract(epoch from current_setting('archive_timeout')::interval)::int,
                   current_setting('data_checksums')::bool,
                   pg_is_in_recovery(),
                   (select system_identifier from pg_control_system()),
                   (select bytes_per_wal_segment from pg_control_init()),
                   (select timeline_id from pg_control_checkpoint())
            """,
            _connection);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return new ServerInfo
        {
            VersionNum = r.GetInt32(0),
            Version = r.GetString(1),
            DataDirectory = r.GetString(2),
            WalLevel = r.GetString(3),
            ArchiveMode = r.GetString(4),
            ArchiveCommand = r.GetString(5),
            ArchiveTimeoutSeconds = r.GetInt32(6),
            DataChecksums = r.GetBoolean(7),
            InRecovery = r.GetBoolean(8),
            SystemIdentifier = unchecked((ulong)r.GetInt64(9)),
            WalSegmentSize = r.GetInt32(10),
            Timeline = (uint)r.GetInt32(11),
        };
    }

    /// <summary>
    /// Settings among <paramref name="names"/> that the configuration files (ALTER SYSTEM's postgresql.auto.conf
    /// included) set to a value not in effect yet — waiting for a reload, or for a restart (pg_settings.pending_restart;
    /// after a reload pg_file_settings says "setting could not be applied") — with that value. pg_file_settings needs a superuser or pg_read_all_settings; without it only pending_restart
    /// is known (the value is then empty).
    /// </summary>
    public async Task<Dictionary<string, string>> PendingSettingsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        var pending = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            await using var files = new NpgsqlCommand(
                """
                select name, setting from (
                  select distinct on (name) name, setting, applied from pg_file_settings
                  where (error is null or error = 'setting could not be applied') and name = any($1) order by name, seqno desc) latest
                where not applied
                """,
                _connection) { Parameters = { new() { Value = names.ToArray() } } };
            await using var r = await files.ExecuteReaderAsync(cancellationToken);
            while (await r.ReadAsync(cancellationToken))
            {
                pending[r.GetString(0)] = r.GetString(1);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
        }

        await using var settings = new NpgsqlCommand("select name from pg_settings where pending_restart and name = any($1)", _connection) { Parameters = { new() { Value = names.ToArray() } } };
        await using (var r = await settings.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken))
            {
                pending.TryAdd(r.GetString(0), "");
            }
        }

        return pending;
    }

    public async Task<ArchiverStats> GetArchiverStatsAsync(CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("select archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time from pg_stat_archiver", _connection);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return new ArchiverStats(
            r.GetInt64(0),
            r.IsDBNull(1) ? null : r.GetString(1),
            r.IsDBNull(2) ? null : r.GetFieldValue<DateTimeOffset>(2),
            r.GetInt64(3),
            r.IsDBNull(4) ? null : r.GetString(4),
            r.IsDBNull(5) ? null : r.GetFieldValue<DateTimeOffset>(5));
    }

    public async Task<List<Tablespace>> GetTablespacesAsync(CancellationToken cancellationToken)
    {
        var result = new List<Tablespace>();
        await using var cmd = new NpgsqlCommand("select oid::int8, spcname, pg_tablespace_location(oid) from pg_tablespace where pg_tablespace_location(oid) <> '' order by oid", _connection);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new Tablespace((uint)r.GetInt64(0), r.GetString(1), r.GetString(2)));
        }

        return result;
    }

    /// <summary>Starts a non-exclusive backup (with an immediate checkpoint); returns the start LSN and its timeline.</summary>
    public async Task<(Lsn Start, uint Timeline)> StartBackupAsync(string label, int major, CancellationToken cancellationToken)
    {
        var sql = major >= 15
            ? "select pg_backup_start(@label, true)::text"
            : "select pg_start_backup(@label, true, false)::text";
        var start = Lsn.Parse(await ScalarAsync<string>(sql, cancellationToken, ("label", label)));
        var timeline = (uint)await ScalarAsync<int>("select timeline_id from pg_control_checkpoint()", cancellationToken);
        return (start, timeline);
    }

    /// <summary>Ends the backup started on this connection; WAL archiving is checked by Lifeboat itself.</summary>
    public async Task<BackupStop> StopBackupAsync(int major, CancellationToken cancellationToken)
    {
        var sql = major >= 15
            ? "select lsn::text, labelfile, spcmapfile from pg_backup_stop(false)"
            : "select lsn::text, labelfile, spcmapfile from pg_stop_backup(false, false)";
        await using var cmd = new NpgsqlCommand(sql, _connection);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        var map = r.IsDBNull(2) ? null : r.GetString(2);
        return new BackupStop(Lsn.Parse(r.GetString(0)), r.GetString(1), string.IsNullOrWhiteSpace(map) ? null : map);
    }

    /// <summary>The next transaction id to be assigned (64-bit, with epoch).</summary>
    public async Task<long> NextXidAsync(CancellationToken cancellationToken)
        => long.Parse(await ScalarAsync<string>("select pg_snapshot_xmax(pg_current_snapshot())::text", cancellationToken), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Asks the server to finish the current WAL segment now, so that it is archived.</summary>
    public Task<string> SwitchWalAsync(CancellationToken cancellationToken) => ScalarAsync<string>("select pg_walfile_name(pg_switch_wal())", cancellationToken);

    public async Task<Lsn> CurrentWalLsnAsync(CancellationToken cancellationToken)
        => Lsn.Parse(await ScalarAsync<string>("select pg_current_wal_lsn()::text", cancellationToken));

    public async Task<T> ScalarAsync<T>(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, _connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }

        var result = await cmd.ExecuteScalarAsync(cancellationToken);
        return (T)result!;
    }

    public async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, _connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
