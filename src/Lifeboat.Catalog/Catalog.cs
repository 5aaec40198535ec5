// Over 400 lines: the catalog's one API over both SQLite and PostgreSQL (runs, backups, WAL, schedules, drills);
// its schema and migrations live beside it. Split by table when a table gains logic beyond plain SQL.
using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using Lifeboat.Core;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Lifeboat.Catalog;

/// <summary>
/// The catalog: run history, schedule state, and a cache of the repository's backups and WAL (rebuilt from the
/// repository by the Engine's CatalogRebuilder). Embedded SQLite by default; PostgreSQL when several server nodes
/// share it. The schema is versioned and migrated on open. Thread-safe (one connection per call).
/// </summary>
public sealed partial class LifeboatCatalog
{
    private readonly Func<DbConnection> _connect;
    private readonly bool _postgres;
    private readonly TimeProvider _time;

    private readonly bool _scoped;

    private LifeboatCatalog(Func<DbConnection> connect, bool postgres, string display, TimeProvider time, string tenant, bool scoped = false)
    {
        _connect = connect;
        _postgres = postgres;
        _time = time;
        Display = display;
        Tenant = tenant;
        _scoped = scoped;
    }

    /// <summary>The default tenant: the only one of a single-tenant installation.</summary>
    public const string DefaultTenant = "default";

    /// <summary>
    /// The tenant this catalog is scoped to. Every query of a tenant's rows (runs, backups, WAL, schedules, drills, and
    /// the server's tables looked up by id) binds it here, in one place, so a caller cannot forget a WHERE clause: a
    /// call gets its tenant's catalog (<see cref="ForTenant"/>) and cannot see another's rows through it. The few
    /// server-wide methods (the tenant registry, the outbox and delivery queue, authentication by token hash) say so.
    /// </summary>
    public string Tenant { get; }

    /// <summary>
    /// The same catalog scoped to <paramref name="tenant"/>: what every call gets (<c>CatalogAccess</c>). A catalog as
    /// opened is the server's: its tenant tables are the default tenant's, and the methods that take a tenant explicitly
    /// (the server's background passes over every tenant's events and deliveries) accept any.
    /// </summary>
    public LifeboatCatalog ForTenant(string tenant) => _scoped && tenant == Tenant ? this : new(_connect, _postgres, Display, _time, tenant, scoped: true);

    /// <summary>A scoped catalog's methods that take a tenant explicitly refuse one other than its own (a programming error).</summary>
    private string Scoped(string tenant) => !_scoped || tenant == Tenant
        ? tenant
        : throw new InvalidOperationException($"a catalog scoped to tenant '{Tenant}' was asked for tenant '{tenant}'");

    /// <summary>Where the catalog is (a path, or host/database for PostgreSQL), for messages.</summary>
    public string Display { get; }

    /// <summary>
    /// Whether SQLite connections are pooled — set by a long-lived process (the server), which opens a connection per
    /// query: opening the file and reading its schema costs more than most queries. Off for a command, which opens a
    /// few and exits: unpooled connections close, so SQLite checkpoints its WAL into the file at the end of each one.
    /// When a catalog file is deleted, its pooled connections are cleared before it is created anew.
    /// </summary>
    public static bool PoolSqliteConnections { get; set; }

    /// <summary>Opens (creating when missing) a SQLite catalog and migrates it.</summary>
    public static async Task<LifeboatCatalog> OpenSqliteAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        CatalogFile.MakePrivate(path);
        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = PoolSqliteConnections }.ToString();
        var catalog = new LifeboatCatalog(() => new SqliteConnection(connectionString), false, path, time, DefaultTenant);
        await catalog.MigrateOnceAsync(connectionString, () => File.Exists(path), cancellationToken);
        return catalog;
    }

    /// <summary>Opens a PostgreSQL catalog and migrates it.</summary>
    public static async Task<LifeboatCatalog> OpenPostgresAsync(string connectionString, TimeProvider time, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "lifeboat-catalog" };
        var catalog = new LifeboatCatalog(() => new NpgsqlConnection(builder.ConnectionString), true, $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}", time, DefaultTenant);
        await catalog.MigrateOnceAsync(builder.ConnectionString, () => true, cancellationToken);
        return catalog;
    }

    public async Task<int> SchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return Convert.ToInt32(await ScalarAsync(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version", cancellationToken), CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Catalogs this process has migrated: a server opens the catalog for every request, and checking the schema each
    /// time cost more than the request's own query. Keyed by connection string; a SQLite file that is gone (deleted
    /// and about to be created anew) is migrated again.
    /// </summary>
    private static readonly ConcurrentDictionary<string, Task> Migrated = new(StringComparer.Ordinal);

    private async Task MigrateOnceAsync(string key, Func<bool> stillThere, CancellationToken cancellationToken)
    {
        if (Migrated.TryGetValue(key, out var done) && done.IsCompletedSuccessfully && stillThere())
        {
            return;
        }

        if (!_postgres && !stillThere())
        {
            // Pooled connections of the deleted file would still see its tables.
            SqliteConnection.ClearAllPools();
        }

        var migration = MigrateAsync(cancellationToken);
        Migrated[key] = migration;
        try
        {
            await migration;
        }
        catch
        {
            Migrated.TryRemove(new KeyValuePair<string, Task>(key, migration));
            throw;
        }
    }

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        if (!_postgres)
        {
            await ExecAsync(c, "PRAGMA journal_mode=WAL", cancellationToken);
        }

        if (_postgres)
        {
            // Several nodes may start at once: one migrates, the others wait for it. The lock comes first: two
            // concurrent CREATE TABLE IF NOT EXISTS of one table race in PostgreSQL (a unique violation in pg_type).
            await ExecAsync(c, "SELECT pg_advisory_lock(7719200001)", cancellationToken);
        }

        try
        {
            await ExecAsync(c, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)", cancellationToken);
            // Every version not applied yet, in order (not only those above the highest: versions are independent, and
            // one developed in parallel may land after a higher one).
            var applied = new HashSet<int>();
            await using (var query = Command(c, "SELECT version FROM schema_version", null, []))
            await using (var r = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await r.ReadAsync(cancellationToken))
                {
                    applied.Add(Convert.ToInt32(r.GetValue(0), CultureInfo.InvariantCulture));
                }
            }

            foreach (var (version, statements) in CatalogMigrations.All.Where(m => !applied.Contains(m.Version)).OrderBy(m => m.Version))
            {
                await using var tx = await c.BeginTransactionAsync(cancellationToken);
                foreach (var sql in statements)
                {
                    await ExecAsync(c, sql, cancellationToken, tx);
                }

                await ExecAsync(c, "INSERT INTO schema_version (version, applied) VALUES (@v, @t)", cancellationToken, tx, ("v", version), ("t", Iso(_time.GetUtcNow())));
                await tx.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            if (_postgres)
            {
                await ExecAsync(c, "SELECT pg_advisory_unlock(7719200001)", CancellationToken.None);
            }
        }
    }

    // ---- runs

    public async Task RecordRunAsync(RunRecord run, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await UpsertRunAsync(c, null, run, cancellationToken);
    }

    private async Task UpsertRunAsync(DbConnection c, DbTransaction? tx, RunRecord run, CancellationToken cancellationToken)
    {
        await ExecAsync(c, """
            INSERT INTO runs (tenant, id, kind, source, target, status, started, finished, duration_ms, bytes_read, bytes_stored, backup_id, error, metadata)
            VALUES (@tenant, @id, @kind, @source, @target, @status, @started, @finished, @duration, @read, @stored, @backup, @error, @metadata)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, finished = excluded.finished, duration_ms = excluded.duration_ms,
                bytes_read = excluded.bytes_read, bytes_stored = excluded.bytes_stored, backup_id = excluded.backup_id,
                error = excluded.error, metadata = excluded.metadata
            WHERE runs.tenant = excluded.tenant
            """, cancellationToken, tx,
            ("tenant", Tenant), ("id", run.Id), ("kind", run.Kind), ("source", run.Source), ("target", run.Target), ("status", run.Status),
            ("started", Iso(run.Started)), ("finished", run.Finished is { } f ? Iso(f) : null), ("duration", run.DurationMs),
            ("read", run.BytesRead), ("stored", run.BytesStored), ("backup", run.BackupId), ("error", run.Error), ("metadata", run.Metadata));
    }

    /// <summary>Runs, newest first.</summary>
    public async Task<List<RunRecord>> RunsAsync(string? source, string? kind, int limit, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = "SELECT id, kind, source, target, status, started, finished, bytes_read, bytes_stored, backup_id, error, metadata FROM runs WHERE tenant = @tenant AND (CAST(@source AS TEXT) IS NULL OR source = @source) AND (CAST(@kind AS TEXT) IS NULL OR kind = @kind) ORDER BY started DESC LIMIT @limit";
        var result = new List<RunRecord>();
        await using var r = await ReaderAsync(c, sql, cancellationToken, ("tenant", Tenant), ("source", source), ("kind", kind), ("limit", limit));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new RunRecord
            {
                Id = r.GetString(0),
                Kind = r.GetString(1),
                Source = NullableString(r, 2),
                Target = NullableString(r, 3),
                Status = r.GetString(4),
                Started = ParseIso(r.GetString(5)),
                Finished = r.IsDBNull(6) ? null : ParseIso(r.GetString(6)),
                BytesRead = r.GetInt64(7),
                BytesStored = r.GetInt64(8),
                BackupId = NullableString(r, 9),
                Error = NullableString(r, 10),
                Metadata = NullableString(r, 11),
            });
        }

        return result;
    }

    // ---- backups and WAL (a cache of the repository)

    public async Task UpsertBackupsAsync(IEnumerable<BackupRecord> backups, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        foreach (var b in backups)
        {
            await ExecAsync(c, """
                INSERT INTO backups (tenant, id, source, kind, type, started, finished, bytes, stored_bytes, files, parent, system_identifier, timeline, start_lsn, stop_lsn, stop_time, damaged)
                VALUES (@tenant, @id, @source, @kind, @type, @started, @finished, @bytes, @stored, @files, @parent, @sysid, @tli, @start, @stop, @stopTime, @damaged)
                ON CONFLICT (tenant, id) DO UPDATE SET source = excluded.source, kind = excluded.kind, type = excluded.type, started = excluded.started,
                    finished = excluded.finished, bytes = excluded.bytes, stored_bytes = excluded.stored_bytes, files = excluded.files,
                    parent = excluded.parent, system_identifier = excluded.system_identifier, timeline = excluded.timeline,
                    start_lsn = excluded.start_lsn, stop_lsn = excluded.stop_lsn, stop_time = excluded.stop_time, damaged = excluded.damaged
                """, cancellationToken, tx,
                ("tenant", Tenant), ("id", b.Id), ("source", b.Source), ("kind", b.Kind), ("type", b.Type), ("started", Iso(b.Started)), ("finished", Iso(b.Finished)),
                ("bytes", b.Bytes), ("stored", b.StoredBytes), ("files", b.Files), ("parent", b.Parent), ("sysid", b.SystemIdentifier),
                ("tli", b.Timeline), ("start", b.StartLsn), ("stop", b.StopLsn), ("stopTime", b.StopTime is { } t ? Iso(t) : null), ("damaged", b.Damaged ? 1 : 0));
        }

        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Makes the backups table equal to <paramref name="backups"/> (used by rebuild).</summary>
    public async Task ReplaceBackupsAsync(IReadOnlyCollection<BackupRecord> backups, CancellationToken cancellationToken)
    {
        await using (var c = await OpenAsync(cancellationToken))
        {
            await ExecAsync(c, "DELETE FROM backups WHERE tenant = @tenant", cancellationToken, null, ("tenant", Tenant));
        }

        await UpsertBackupsAsync(backups, cancellationToken);
    }

    public async Task DeleteBackupAsync(string id, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, "DELETE FROM backups WHERE tenant = @tenant AND id = @id", cancellationToken, null, ("tenant", Tenant), ("id", id));
    }

    public async Task<List<BackupRecord>> BackupsAsync(string? source, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<BackupRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {BackupColumns} FROM backups WHERE tenant = @tenant AND (CAST(@source AS TEXT) IS NULL OR source = @source) ORDER BY id", cancellationToken, ("tenant", Tenant), ("source", source));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadBackup(r));
        }

        return result;
    }

    public async Task ReplaceWalAsync(string source, IReadOnlyCollection<WalRecord> wal, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await ExecAsync(c, "DELETE FROM wal WHERE tenant = @tenant AND source = @source", cancellationToken, tx, ("tenant", Tenant), ("source", source));
        foreach (var w in wal)
        {
            await ExecAsync(c, "INSERT INTO wal (tenant, source, system_identifier, name, timeline, segment, size, archived) VALUES (@tenant, @source, @sysid, @name, @tli, @seg, @size, @archived)", cancellationToken, tx,
                ("tenant", Tenant), ("source", w.Source), ("sysid", w.SystemIdentifier), ("name", w.Name), ("tli", w.Timeline), ("seg", w.Segment), ("size", w.Size), ("archived", w.Archived is { } a ? Iso(a) : null));
        }

        await tx.CommitAsync(cancellationToken);
    }

    public async Task<List<WalRecord>> WalAsync(string source, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<WalRecord>();
        await using var r = await ReaderAsync(c, "SELECT source, system_identifier, name, timeline, segment, size, archived FROM wal WHERE tenant = @tenant AND source = @source ORDER BY name", cancellationToken, ("tenant", Tenant), ("source", source));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new WalRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.IsDBNull(6) ? null : ParseIso(r.GetString(6))));
        }

        return result;
    }

    // ---- schedules

    public async Task SaveScheduleStateAsync(ScheduleState state, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, """
            INSERT INTO schedules (tenant, name, last_run, last_status, next_run, consecutive_failures) VALUES (@tenant, @name, @last, @status, @next, @failures)
            ON CONFLICT (tenant, name) DO UPDATE SET last_run = excluded.last_run, last_status = excluded.last_status, next_run = excluded.next_run, consecutive_failures = excluded.consecutive_failures
            """, cancellationToken, null,
            ("tenant", Tenant), ("name", state.Name), ("last", state.LastRun is { } l ? Iso(l) : null), ("status", state.LastStatus), ("next", state.NextRun is { } n ? Iso(n) : null), ("failures", state.ConsecutiveFailures));
    }

    public async Task<Dictionary<string, ScheduleState>> ScheduleStatesAsync(CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new Dictionary<string, ScheduleState>(StringComparer.Ordinal);
        await using var r = await ReaderAsync(c, "SELECT name, last_run, last_status, next_run, consecutive_failures FROM schedules WHERE tenant = @tenant", cancellationToken, ("tenant", Tenant));
        while (await r.ReadAsync(cancellationToken))
        {
            var name = r.GetString(0);
            result[name] = new ScheduleState(name, r.IsDBNull(1) ? null : ParseIso(r.GetString(1)), NullableString(r, 2), r.IsDBNull(3) ? null : ParseIso(r.GetString(3)), (int)r.GetInt64(4));
        }

        return result;
    }

    // ---- drills

    public async Task RecordDrillAsync(DrillRecord d, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, """
            INSERT INTO drills (tenant, id, source, kind, backup_id, started, finished, result, restorable, target, point_reached, point_lsn,
                rto_ms, rto_objective_ms, rto_violated, rpo_ms, rpo_objective_ms, rpo_violated, checks_passed, checks_failed,
                summary, report_json, report_json_path, report_html_path)
            VALUES (@tenant, @id, @source, @kind, @backup, @started, @finished, @result, @restorable, @target, @point, @lsn,
                @rto, @rtoObjective, @rtoViolated, @rpo, @rpoObjective, @rpoViolated, @passed, @failed,
                @summary, @json, @jsonPath, @htmlPath)
            ON CONFLICT (id) DO UPDATE SET finished = excluded.finished, result = excluded.result, restorable = excluded.restorable,
                point_reached = excluded.point_reached, point_lsn = excluded.point_lsn, rto_ms = excluded.rto_ms, rto_violated = excluded.rto_violated,
                rpo_ms = excluded.rpo_ms, rpo_violated = excluded.rpo_violated, checks_passed = excluded.checks_passed, checks_failed = excluded.checks_failed,
                summary = excluded.summary, report_json = excluded.report_json, report_json_path = excluded.report_json_path, report_html_path = excluded.report_html_path
            WHERE drills.tenant = excluded.tenant
            """, cancellationToken, null,
            ("tenant", Tenant), ("id", d.Id), ("source", d.Source), ("kind", d.Kind), ("backup", d.BackupId), ("started", Iso(d.Started)), ("finished", Iso(d.Finished)),
            ("result", d.Result), ("restorable", d.Restorable ? 1 : 0), ("target", d.Target), ("point", d.PointReached is { } p ? Iso(p) : null), ("lsn", d.PointLsn),
            ("rto", d.RtoMs), ("rtoObjective", d.RtoObjectiveMs), ("rtoViolated", d.RtoViolated ? 1 : 0),
            ("rpo", d.RpoMs), ("rpoObjective", d.RpoObjectiveMs), ("rpoViolated", d.RpoViolated ? 1 : 0),
            ("passed", d.ChecksPassed), ("failed", d.ChecksFailed), ("summary", d.Summary), ("json", d.ReportJson),
            ("jsonPath", d.ReportJsonPath), ("htmlPath", d.ReportHtmlPath));
    }

    /// <summary>Drills, newest first; <paramref name="restorableOnly"/>: only those that proved the backup restorable.</summary>
    public async Task<List<DrillRecord>> DrillsAsync(string? source, int limit, CancellationToken cancellationToken, bool restorableOnly = false)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = """
            SELECT id, source, kind, backup_id, started, finished, result, restorable, target, point_reached, point_lsn,
                rto_ms, rto_objective_ms, rto_violated, rpo_ms, rpo_objective_ms, rpo_violated, checks_passed, checks_failed,
                summary, report_json, report_json_path, report_html_path
            FROM drills WHERE tenant = @tenant AND (CAST(@source AS TEXT) IS NULL OR source = @source) AND (@restorable = 0 OR restorable = 1)
            ORDER BY started DESC LIMIT @limit
            """;
        var result = new List<DrillRecord>();
        await using var r = await ReaderAsync(c, sql, cancellationToken, ("tenant", Tenant), ("source", source), ("restorable", restorableOnly ? 1 : 0), ("limit", limit));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadDrill(r));
        }

        return result;
    }

    private const string DrillColumns = """
        id, source, kind, backup_id, started, finished, result, restorable, target, point_reached, point_lsn,
            rto_ms, rto_objective_ms, rto_violated, rpo_ms, rpo_objective_ms, rpo_violated, checks_passed, checks_failed,
            summary, report_json, report_json_path, report_html_path
        """;

    /// <summary>A row of <see cref="DrillColumns"/>.</summary>
    private static DrillRecord ReadDrill(System.Data.Common.DbDataReader r)
    {
        return new DrillRecord
        {
            Id = r.GetString(0),
            Source = r.GetString(1),
            Kind = r.GetString(2),
            BackupId = NullableString(r, 3),
            Started = ParseIso(r.GetString(4)),
            Finished = ParseIso(r.GetString(5)),
            Result = r.GetString(6),
            Restorable = r.GetInt64(7) != 0,
            Target = NullableString(r, 8),
            PointReached = r.IsDBNull(9) ? null : ParseIso(r.GetString(9)),
            PointLsn = NullableString(r, 10),
            RtoMs = NullableLong(r, 11),
            RtoObjectiveMs = NullableLong(r, 12),
            RtoViolated = r.GetInt64(13) != 0,
            RpoMs = NullableLong(r, 14),
            RpoObjectiveMs = NullableLong(r, 15),
            RpoViolated = r.GetInt64(16) != 0,
            ChecksPassed = (int)r.GetInt64(17),
            ChecksFailed = (int)r.GetInt64(18),
            Summary = r.GetString(19),
            ReportJson = r.GetString(20),
            ReportJsonPath = NullableString(r, 21),
            ReportHtmlPath = NullableString(r, 22),
        };
    }

    // ---- plumbing

    private const string BackupColumns = "id, source, kind, type, started, finished, bytes, stored_bytes, files, parent, system_identifier, timeline, start_lsn, stop_lsn, stop_time, damaged";

    private static BackupRecord ReadBackup(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Source = r.GetString(1),
        Kind = r.GetString(2),
        Type = r.GetString(3),
        Started = ParseIso(r.GetString(4)),
        Finished = ParseIso(r.GetString(5)),
        Bytes = r.GetInt64(6),
        StoredBytes = r.GetInt64(7),
        Files = r.GetInt64(8),
        Parent = NullableString(r, 9),
        SystemIdentifier = NullableString(r, 10),
        Timeline = r.IsDBNull(11) ? null : r.GetInt64(11),
        StartLsn = NullableString(r, 12),
        StopLsn = NullableString(r, 13),
        StopTime = r.IsDBNull(14) ? null : ParseIso(r.GetString(14)),
        Damaged = r.GetInt64(15) != 0,
    };

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var c = _connect();
        try
        {
            await c.OpenAsync(cancellationToken);
            if (!_postgres)
            {
                await ExecAsync(c, "PRAGMA busy_timeout = 10000", cancellationToken);
            }

            return c;
        }
        catch (Exception ex) when (ex is DbException or InvalidOperationException)
        {
            await c.DisposeAsync();
            throw new LifeboatException(ErrorCode.Config, $"cannot open the catalog at {Display}: {ex.Message}", "check Catalog:Path (or Catalog:ConnectionString) in the configuration file; `lifeboat catalog rebuild` recreates it from the repository");
        }
    }

    private static async Task ExecAsync(DbConnection c, string sql, CancellationToken cancellationToken, DbTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(c, sql, tx, parameters);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<object?> ScalarAsync(DbConnection c, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var cmd = Command(c, sql, null, parameters);
        return await cmd.ExecuteScalarAsync(cancellationToken);
    }

    private static async Task<DbDataReader> ReaderAsync(DbConnection c, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        var cmd = Command(c, sql, null, parameters);
        return await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.CloseConnection, cancellationToken);
    }

    private static DbCommand Command(DbConnection c, string sql, DbTransaction? tx, (string Name, object? Value)[] parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            // A NULL parameter stays untyped: the column gives it its type (queries cast where there is no column).
            p.Value = value ?? DBNull.Value;
            cmd.Parameters.Add(p);
        }

        return cmd;
    }

    private static string? NullableString(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static long? NullableLong(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetInt64(i);

    internal static string Iso(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    internal static DateTimeOffset ParseIso(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
