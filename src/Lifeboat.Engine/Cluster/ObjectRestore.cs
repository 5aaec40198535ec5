using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Microsoft.Extensions.Logging;
using Npgsql;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Cluster;

public sealed record ObjectRestoreRequest
{
    public required string SourceName { get; init; }

    public required ClusterSourceOptions Source { get; init; }

    public string? BackupId { get; init; }

    public RecoveryTarget Target { get; init; } = RecoveryTarget.Latest;

    public string? TargetTimeline { get; init; }

    /// <summary>The database of the cluster to copy.</summary>
    public required string Database { get; init; }

    /// <summary>Where it goes (server, new name, tables, schema only, clean, owners).</summary>
    public required DatabaseRestoreOptions Into { get; init; }

    /// <summary>The directory below which the scratch cluster lives (default: the system's temporary directory).</summary>
    public string? Scratch { get; init; }

    public required string RestoreCommand { get; init; }

    public int Workers { get; init; } = Environment.ProcessorCount;
}

public sealed record ObjectRestoreResult(Manifest Backup, DatabaseRestoreResult Database, RecoveryTarget Target, TimeSpan ScratchRecovery);

/// <summary>
/// Object-level restore from a physical backup: the cluster is restored into a private scratch directory, recovered to the
/// target on a free loopback port (archiving off, logical replication workers off, only local trust authentication), the
/// requested database — or some of its tables with what they depend on — is dumped from it and restored into the live
/// server under a new name, and the scratch cluster is stopped and removed whatever happens.
/// </summary>
public sealed partial class ObjectRestore
{
    private readonly Repo _repo;
    private readonly PgBinaries _pg;
    private readonly ILogger _logger;

    public ObjectRestore(Repo repository, PgBinaries pg, ILogger logger)
    {
        _repo = repository;
        _pg = pg;
        _logger = logger;
    }

    public async Task<ObjectRestoreResult> RunAsync(ObjectRestoreRequest request, IProgress<RestoreProgress>? progress, IProgress<string>? status, CancellationToken cancellationToken)
    {
        // The live side first: a bad target name or an existing database must fail before minutes of scratch restore.
        await DatabaseRestorer.CheckTargetAsync(request.Into, cancellationToken);
        var parent = request.Scratch ?? Path.GetTempPath();
        var work = LogicalRestore.CreatePrivate(parent);
        var osUser = PostgresCluster.DefaultOsUser;
        PostgresCluster? scratch = null;
        try
        {
            var pgdata = Path.Combine(work, "pgdata");
            status?.Report($"restoring '{request.SourceName}' into a scratch cluster in {work}");
            ClusterRestoreResult restored;
            await using (var repositoryLock = await RepositoryLock.AcquireAsync(_repo, exclusive: false, "restore", cancellationToken))
            {
                restored = await new ClusterRestore(_repo, request.SourceName, request.Source).RunAsync(
                    new ClusterRestoreRequest
                    {
                        Destination = pgdata,
                        BackupId = request.BackupId,
                        Target = request.Target,
                        TargetTimeline = request.TargetTimeline,
                        TablespaceRoot = Path.Combine(work, "tablespaces"),
                        TargetAction = "promote",
                        ArchiveOff = true,
                        RestoreCommand = request.RestoreCommand,
                        Workers = request.Workers,
                    },
                    progress,
                    cancellationToken);
            }

            PrepareScratch(work, pgdata);
            PostgresCluster.ChownForServer(work, osUser);
            // The server of the backup's own major (a data directory starts under no other), else the newest one
            // installed, which refuses the directory with a message naming both versions.
            scratch = PostgresCluster.Attach(pgdata, _pg.Server(restored.Info.ServerVersion / 10000) ?? _pg.NewestServer);
            var started = _repo.Time.GetTimestamp();
            status?.Report($"recovering the scratch cluster to {restored.Target} (port {scratch.Port.ToString(CultureInfo.InvariantCulture)})");
            await scratch.StartAsync(cancellationToken);
            await WaitForPromotionAsync(scratch, cancellationToken);
            var recovery = _repo.Time.GetElapsedTime(started);
            LogRecovered(_logger, request.SourceName, recovery.TotalSeconds);

            var scratchConnection = scratch.ConnectionString(request.Database);
            var (like, excludeData) = await InspectAsync(scratch, request, restored.Target, cancellationToken);

            var dumpDir = Path.Combine(work, "dump");
            var args = new List<string> { "-Fd", "-Z", "0", "--no-sync", "-j", request.Into.Jobs.ToString(CultureInfo.InvariantCulture), "-f", dumpDir };
            if (request.Into.SchemaOnly)
            {
                args.Add("--schema-only");
            }

            // Every definition, but rows only of the tables asked for: the table of contents then gives the closure.
            foreach (var (schema, name) in excludeData)
            {
                args.Add("--exclude-table-data=" + PgTools.ExactPattern(schema, name));
            }

            args.Add(PgTools.DbnameArgument(request.Database));
            status?.Report($"copying database '{request.Database}' out of the scratch cluster");
            await PgTools.RunAsync(_pg.Client("pg_dump"), args, PgConnection.Own(scratchConnection).LibpqEnvironment(request.Database), cancellationToken);
            var listing = await PgTools.RunAsync(_pg.Client("pg_restore"), ["-l", "-v", dumpDir], new Dictionary<string, string>(), cancellationToken);
            var toc = DumpToc.Parse(listing.Output);
            status?.Report($"restoring into '{request.Into.Into}'");
            var result = await DatabaseRestorer.RestoreAsync(_pg, dumpDir, toc, like, request.Into, $"database '{request.Database}' of backup {restored.Backup.Id}", work, cancellationToken);
            return new ObjectRestoreResult(restored.Backup, result, restored.Target, recovery);
        }
        finally
        {
            if (scratch is not null)
            {
                await scratch.DisposeAsync();
            }

            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogCleanupFailed(_logger, work, ex.Message);
            }
        }
    }

    /// <summary>Settings that keep the scratch copy to itself: its own authentication, no archiving, no subscriptions.</summary>
    private static void PrepareScratch(string work, string pgdata)
    {
        // A cluster whose configuration lives outside PGDATA (Debian's /etc/postgresql) has none in the backup.
        var conf = Path.Combine(pgdata, "postgresql.conf");
        if (!File.Exists(conf))
        {
            File.WriteAllText(conf, "# written by lifeboat for a scratch copy\n");
        }

        var hba = Path.Combine(work, "scratch_hba.conf");
        File.WriteAllText(hba, "local all all trust\nhost all all 127.0.0.1/32 trust\n");
        var ident = Path.Combine(work, "scratch_ident.conf");
        File.WriteAllText(ident, "");
        var settings = new Dictionary<string, string>
        {
            ["hba_file"] = hba,
            ["ident_file"] = ident,
            ["archive_mode"] = "off",
            ["max_logical_replication_workers"] = "0",
            ["hot_standby"] = "on",
            ["ssl"] = "off",
            ["logging_collector"] = "off",
            ["log_destination"] = "stderr",
            ["shared_preload_libraries"] = "",
            ["synchronous_standby_names"] = "",
            ["primary_conninfo"] = "",
        };
        var auto = Path.Combine(pgdata, "postgresql.auto.conf");
        File.AppendAllText(auto, "# lifeboat object-level restore: a private scratch copy\n" + string.Join('\n', settings.Select(kv => $"{kv.Key} = {RecoveryConfig.ConfQuote(kv.Value)}")) + "\n");
    }

    private static async Task WaitForPromotionAsync(PostgresCluster scratch, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                if (!await scratch.QueryAsync<bool>("select pg_is_in_recovery()", cancellationToken))
                {
                    return;
                }
            }
            catch (NpgsqlException ex) when (!File.Exists(Path.Combine(scratch.DataDirectory, "postmaster.pid")))
            {
                var log = File.Exists(scratch.LogFile) ? string.Join('\n', File.ReadLines(scratch.LogFile).TakeLast(15)) : "";
                throw new LifeboatException(ErrorCode.PostgresFailed, $"the scratch cluster stopped during recovery ({ex.Message}); its log ends:\n{log}", "when the log names an archived WAL file that is damaged, restore it from a replica (`lifeboat replicate`) or recover to a point before it; a recovery target after the end of the archived WAL cannot be reached: `lifeboat list` shows the recoverable range");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>Checks the database and tables exist at the point reached; returns the database's settings and the tables whose rows are not needed.</summary>
    private static async Task<(DatabaseInfo Like, List<(string Schema, string Name)> ExcludeData)> InspectAsync(PostgresCluster scratch, ObjectRestoreRequest request, RecoveryTarget target, CancellationToken cancellationToken)
    {
        await using (var maintenance = new NpgsqlConnection(scratch.ConnectionString()))
        {
            await maintenance.OpenAsync(cancellationToken);
            if (!await DatabaseServer.DatabaseExistsAsync(maintenance, request.Database, cancellationToken))
            {
                await using var list = new NpgsqlCommand("select string_agg(datname, ', ' order by datname) from pg_database where datallowconn and not datistemplate", maintenance);
                var names = await list.ExecuteScalarAsync(cancellationToken) as string;
                throw new LifeboatException(ErrorCode.InvalidInput, $"cluster '{request.SourceName}' has no database '{request.Database}' at {target} (it has: {names})", "choose one of those with «database»");
            }
        }

        await using var connection = new NpgsqlConnection(scratch.ConnectionString(request.Database));
        await connection.OpenAsync(cancellationToken);
        var like = await DatabaseServer.InfoAsync(connection, cancellationToken);
        var excluded = new List<(string, string)>();
        if (request.Into.Tables.Count == 0)
        {
            return (like, excluded);
        }

        var wanted = new HashSet<uint>();
        foreach (var table in request.Into.Tables)
        {
            await using var find = new NpgsqlCommand("select to_regclass($1)::oid", connection) { Parameters = { new() { Value = table } } };
            object? oid;
            try
            {
                oid = await find.ExecuteScalarAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState is "42602" or "3F000" or "42601")
            {
                oid = null;
            }

            if (oid is not uint o)
            {
                var names = await TableNamesAsync(connection, cancellationToken);
                var sample = names.Count == 0 ? "it has no tables" : "it has " + string.Join(", ", names.Take(MaxNamesListed)) + (names.Count > MaxNamesListed ? $" and {names.Count - MaxNamesListed} more" : "");
                throw new LifeboatException(ErrorCode.InvalidInput, $"database '{request.Database}' of cluster '{request.SourceName}' has no table '{table}' at {target} ({sample})", "give one of those tables, as name or schema.name");
            }

            wanted.Add(o);
        }

        await using var all = new NpgsqlCommand("select c.oid, n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'", connection);
        await using var reader = await all.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!wanted.Contains(reader.GetFieldValue<uint>(0)))
            {
                excluded.Add((reader.GetString(1), reader.GetString(2)));
            }
        }

        return (like, excluded);
    }

    /// <summary>How many table names a "no such table" error lists before "and N more".</summary>
    private const int MaxNamesListed = 20;

    /// <summary>The tables, views and materialized views of the connected database (schema.name, sorted), as a dump of it holds them.</summary>
    private static async Task<List<string>> TableNamesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var list = new NpgsqlCommand("select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'm', 'v', 'f') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'", connection);
        await using var reader = await list.ExecuteReaderAsync(cancellationToken);
        var names = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "scratch copy of {Source} recovered and promoted in {Seconds:0.0} s")]
    private static partial void LogRecovered(ILogger logger, string source, double seconds);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "could not remove the scratch directory {Directory}: {Error}")]
    private static partial void LogCleanupFailed(ILogger logger, string directory, string error);
}
