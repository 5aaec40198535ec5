using System.Text.RegularExpressions;
using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// The configuration file (docs/configuration.md), one model for the CLI and the server. Every setting can be
/// overridden by an environment variable <c>LIFEBOAT__Section__Key</c>.
/// </summary>
public sealed class LifeboatOptions
{
    public RepositoryOptions Repository { get; set; } = new();

    public Dictionary<string, SourceOptions> Sources { get; set; } = new(StringComparer.Ordinal);

    public CatalogOptions Catalog { get; set; } = new();

    public Dictionary<string, ScheduleOptions> Schedules { get; set; } = new(StringComparer.Ordinal);

    public HealthOptions Health { get; set; } = new();

    /// <summary>Secondary targets holding replicas of the repository (repo target add), keyed by name.</summary>
    public Dictionary<string, TargetOptions> Targets { get; set; } = new(StringComparer.Ordinal);

    public DrillOptions Drill { get; set; } = new();

    /// <summary>Stacks:NAME: the sources of one application, backed up and restored together.</summary>
    public Dictionary<string, StackOptions> Stacks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Checks every setting; throws a <see cref="LifeboatException"/> (exit 2) naming the first bad one.</summary>
    public void Validate(string configPath)
    {
        Repository.Validate(configPath);
        foreach (var (name, source) in Sources)
        {
            SourceNames.Validate(name, $"source name in {configPath}");
            source.Validate(name, configPath);
        }

        Drill.Validate(configPath);
        foreach (var (name, stack) in Stacks)
        {
            SourceNames.Validate(name, $"stack name in {configPath}");
            stack.Validate(name, configPath, this);
        }

        foreach (var (name, schedule) in Schedules)
        {
            SourceNames.Validate(name, $"schedule name in {configPath}");
            schedule.Validate(name, configPath, this);
        }

        TargetOptions.ValidateAll(this, configPath);
    }
}

public sealed class RepositoryOptions
{
    /// <summary>Repository URL (CLI.md): file:///abs/path, s3://…, azure://…, sftp://….</summary>
    public string? Url { get; set; }

    /// <summary>A file holding the repository passphrase (one line).</summary>
    public string? PassphraseFile { get; set; }

    /// <summary>A Lifeboat key file (for machines, e.g. archive_command: no slow key derivation).</summary>
    public string? KeyFile { get; set; }

    /// <summary>Workers that hash, compress and encrypt (default: one per core).</summary>
    public int? Workers { get; set; }

    /// <summary>zstd level for new data, 1–19 (default: the repository's, 3).</summary>
    public int? CompressionLevel { get; set; }

    /// <summary>Where packs are staged before upload to a remote target (default: the system temp directory).</summary>
    public string? SpoolDirectory { get; set; }

    internal void Validate(string configPath)
    {
        if (Workers is < 1 or > 256)
        {
            throw new LifeboatException(ErrorCode.Config, $"Repository:Workers = {Workers} in {configPath} is out of range", "use a number of workers from 1 to 256, or remove the setting");
        }

        if (CompressionLevel is < 1 or > 19)
        {
            throw new LifeboatException(ErrorCode.Config, $"Repository:CompressionLevel = {CompressionLevel} in {configPath} is out of range", "use a zstd level from 1 to 19 (default 3)");
        }
    }
}

public static class SourceKinds
{
    public const string Files = "files";
    public const string Cluster = "cluster";
    public const string Database = "database";
    public const string Config = "config";
}

public sealed class SourceOptions
{
    public ulong SystemIdValue() => ulong.Parse(SystemIdentifier!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>files or cluster.</summary>
    public string Kind { get; set; } = SourceKinds.Files;

    /// <summary>The directory a files source protects.</summary>
    public string? Path { get; set; }

    public List<string> Include { get; set; } = [];

    public List<string> Exclude { get; set; } = [];

    /// <summary>Config: the files and directories holding secrets (.env, appsettings.*.json, YAML).</summary>
    public List<string> Paths { get; set; } = [];

    /// <summary>Database: the database a logical source dumps.</summary>
    public string? Database { get; set; }

    /// <summary>Database: dump the schema only, no data.</summary>
    public bool SchemaOnly { get; set; }

    /// <summary>Database: tables (pg_dump patterns) left out of the dump entirely.</summary>
    public List<string> ExcludeTables { get; set; } = [];

    /// <summary>Database: tables (pg_dump patterns) whose definition is dumped but not their rows.</summary>
    public List<string> ExcludeTableData { get; set; } = [];

    /// <summary>Database: parallel pg_dump and pg_restore jobs.</summary>
    public int Jobs { get; set; } = 2;

    /// <summary>Cluster: the data directory (PGDATA).</summary>
    public string? PgData { get; set; }

    /// <summary>Cluster: how to connect (Npgsql connection string); a password belongs in ~/.pgpass, not here.</summary>
    public string? Connection { get; set; }

    /// <summary>Cluster: the system identifier recorded by add-cluster; WAL from any other cluster is refused.</summary>
    public string? SystemIdentifier { get; set; }

    /// <summary>Cluster: how long a backup waits for the WAL it needs to be archived.</summary>
    public TimeSpan ArchiveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Which backups `expire` keeps; none set: keep everything.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Recovery point objective: the most data loss accepted (health warns past it).</summary>
    public TimeSpan? Rpo { get; set; }

    /// <summary>Recovery time objective: the longest restore accepted (drills report a violation past it).</summary>
    public TimeSpan? Rto { get; set; }

    /// <summary>What drills check beyond the restore itself (row counts recorded at backup time, smoke queries).</summary>
    public DrillSourceOptions Drill { get; set; } = new();

    public void Validate(string name, string configPath)
    {
        switch (Kind)
        {
            case SourceKinds.Files:
                if (string.IsNullOrWhiteSpace(Path) || !System.IO.Path.IsPathRooted(Path))
                {
                    throw new LifeboatException(ErrorCode.Config, $"source '{name}' in {configPath} needs an absolute Path (it has '{Path}')", $"set Sources:{name}:Path to the directory to protect");
                }

                foreach (var glob in Include.Concat(Exclude))
                {
                    _ = new GlobPattern(glob);
                }

                Retention.ToPolicy().Validate($"Sources:{name}:Retention");
                if (Drill.RowCountTables is not null || Drill.RowCountDatabase is not null || Drill.SmokeQueries.Count > 0)
                {
                    throw new LifeboatException(ErrorCode.Config, $"Sources:{name}:Drill in {configPath} sets row counts or smoke queries, which apply to cluster sources only", "remove them: a drill of a file tree checks every restored file against the chunk ids recorded at backup time");
                }

                break;
            case SourceKinds.Cluster:
                if (string.IsNullOrWhiteSpace(PgData) || !System.IO.Path.IsPathRooted(PgData))
                {
                    throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} needs an absolute PgData (it has '{PgData}')", $"set Sources:{name}:PgData to the data directory");
                }

                if (string.IsNullOrWhiteSpace(Connection))
                {
                    throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} has no Connection", $"set Sources:{name}:Connection, for example Host=/var/run/postgresql;Username=postgres");
                }

                if (SystemIdentifier is null || !ulong.TryParse(SystemIdentifier, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} has no valid SystemIdentifier ('{SystemIdentifier}')", "add the source with `lifeboat source add-cluster`, which reads it from pg_control");
                }

                Retention.ToPolicy().Validate($"Sources:{name}:Retention");
                Drill.Validate(name, configPath);
                if (ArchiveTimeout <= TimeSpan.Zero)
                {
                    throw new LifeboatException(ErrorCode.Config, $"Sources:{name}:ArchiveTimeout in {configPath} must be positive", "use a duration such as 00:01:00");
                }

                break;
            case SourceKinds.Config:
                if (Paths.Count == 0 || Paths.Any(p => !System.IO.Path.IsPathRooted(p)))
                {
                    throw new LifeboatException(ErrorCode.Config, $"config source '{name}' in {configPath} needs absolute Paths (it has {(Paths.Count == 0 ? "none" : string.Join(", ", Paths))})", $"set Sources:{name}:Paths to the files and directories that hold configuration");
                }

                Retention.ToPolicy().Validate($"Sources:{name}:Retention");
                break;
            case SourceKinds.Database:
                if (string.IsNullOrWhiteSpace(Connection) || string.IsNullOrWhiteSpace(Database))
                {
                    throw new LifeboatException(ErrorCode.Config, $"database source '{name}' in {configPath} needs a Connection and a Database", $"add it with `lifeboat source add-database {name} --conn CONNSTRING --database DB`");
                }

                try
                {
                    _ = new Npgsql.NpgsqlConnectionStringBuilder(Connection);
                }
                catch (ArgumentException ex)
                {
                    throw new LifeboatException(ErrorCode.Config, $"the Connection of source '{name}' in {configPath} is not a valid connection string: {ex.Message}", "use the Npgsql form Host=HOST;Port=5432;Username=USER (passwords belong in ~/.pgpass)");
                }

                Drill.Validate(name, configPath);
                if (Jobs is < 1 or > 64)
                {
                    throw new LifeboatException(ErrorCode.Config, $"Sources:{name}:Jobs = {Jobs} in {configPath} is out of range", "use 1 to 64 parallel jobs");
                }

                Retention.ToPolicy().Validate($"Sources:{name}:Retention");
                break;
            default:
                throw new LifeboatException(ErrorCode.Config, $"source '{name}' in {configPath} has the unknown kind '{Kind}'", "use kind 'files', 'config', 'database' or 'cluster'");
        }
    }
}

public static partial class SourceNames
{
    /// <summary>Source and stack names: lower-case letters, digits, '.', '_', '-'; they appear in object names.</summary>
    public static void Validate(string name, string what)
    {
        if (!Pattern().IsMatch(name))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{name}' is not a valid {what}", "use 1–63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}

/// <summary>Sources:NAME:Retention (see <see cref="Core.Retention.RetentionPolicy"/>).</summary>
public sealed class RetentionOptions
{
    public int? KeepLast { get; set; }

    public int? KeepDaily { get; set; }

    public int? KeepWeekly { get; set; }

    public int? KeepMonthly { get; set; }

    public int? KeepYearly { get; set; }

    public TimeSpan? PitrWindow { get; set; }

    public int MinimumKeep { get; set; } = 1;

    public string? TimeZone { get; set; }

    public Core.Retention.RetentionPolicy ToPolicy() => new()
    {
        KeepLast = KeepLast,
        KeepDaily = KeepDaily,
        KeepWeekly = KeepWeekly,
        KeepMonthly = KeepMonthly,
        KeepYearly = KeepYearly,
        PitrWindow = PitrWindow,
        MinimumKeep = MinimumKeep,
        TimeZone = TimeZone,
    };
}

/// <summary>Catalog: run history, schedule state and a cache of the repository.</summary>
public sealed class CatalogOptions
{
    /// <summary>The SQLite file (default: lifeboat.db next to the configuration file).</summary>
    public string? Path { get; set; }

    /// <summary>A PostgreSQL connection string: use a shared catalog instead of SQLite (several server nodes).</summary>
    public string? ConnectionString { get; set; }
}

/// <summary>Stacks:NAME: an application's sources (databases, clusters, files, config sets), one consistent point.</summary>
public sealed class StackOptions
{
    /// <summary>The member sources (at most one stack backup runs them in kind order: databases, clusters, files, config).</summary>
    public List<string> Sources { get; set; } = [];

    internal void Validate(string name, string configPath, LifeboatOptions options)
    {
        if (Sources.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} has no sources", $"set Stacks:{name}:Sources to the application's sources, or run `lifeboat stack add {name} --sources A,B,C`");
        }

        foreach (var member in Sources)
        {
            if (!options.Sources.ContainsKey(member))
            {
                throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} names the source '{member}', which is not configured", $"add the source first (`lifeboat source list` shows the configured ones) or remove it from Stacks:{name}:Sources");
            }
        }

        var twice = Sources.GroupBy(s => s, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null)
        {
            throw new LifeboatException(ErrorCode.Config, $"stack '{name}' in {configPath} names the source '{twice.Key}' twice", $"list each source once in Stacks:{name}:Sources");
        }
    }
}

/// <summary>Schedules:NAME: run a job on a cron schedule (lifeboat serve, or exported to systemd/cron).</summary>
public sealed class ScheduleOptions
{
    public string? Source { get; set; }

    /// <summary>For kind stack: the stack to back up.</summary>
    public string? Stack { get; set; }

    /// <summary>full, incr, backup, logical, files, stack, verify, expire, replicate, drill.</summary>
    public string? Kind { get; set; }

    /// <summary>Five-field cron expression (minute hour day month weekday).</summary>
    public string? Cron { get; set; }

    /// <summary>IANA time zone of the cron expression (default UTC).</summary>
    public string? TimeZone { get; set; }

    /// <summary>A random delay up to this long before each run (spreads load).</summary>
    public TimeSpan Jitter { get; set; } = TimeSpan.Zero;

    /// <summary>Attempts before a failed run is recorded as failed (retries with backoff).</summary>
    public int MaxAttempts { get; set; } = 3;

    internal void Validate(string name, string configPath, LifeboatOptions options)
    {
        if (Kind is null || !Catalog.JobKinds.Schedulable.Contains(Kind))
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} has the kind '{Kind}'", $"use one of {string.Join(", ", Catalog.JobKinds.Schedulable)}");
        }

        if (Kind == Catalog.JobKinds.Stack)
        {
            if (Stack is null || !options.Stacks.ContainsKey(Stack))
            {
                throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} names the stack '{Stack}', which is not configured", "set Schedules:" + name + ":Stack to a configured stack");
            }
        }

        var needsSource = Kind is not (Catalog.JobKinds.Verify or Catalog.JobKinds.Replicate or Catalog.JobKinds.Stack);
        if (needsSource && (Source is null || !options.Sources.ContainsKey(Source)))
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} names the source '{Source}', which is not configured", "set Schedules:" + name + ":Source to a configured source");
        }

        try
        {
            _ = Cronos.CronExpression.Parse(Cron ?? "");
        }
        catch (Cronos.CronFormatException ex)
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath} has the cron expression '{Cron}', which is not valid: {ex.Message}", "use five fields: minute hour day-of-month month day-of-week, for example '0 2 * * *'");
        }

        _ = new Core.Retention.RetentionPolicy { TimeZone = TimeZone }.Zone();
        if (Jitter < TimeSpan.Zero || MaxAttempts < 1)
        {
            throw new LifeboatException(ErrorCode.Config, $"schedule '{name}' in {configPath}: Jitter must not be negative and MaxAttempts must be at least 1", "fix the values");
        }
    }
}

/// <summary>Health thresholds for `lifeboat status` (backup age thresholds are derived from a backup schedule when there is one).</summary>
public sealed class HealthOptions
{
    public TimeSpan BackupAgeWarning { get; set; } = TimeSpan.FromHours(25);

    public TimeSpan BackupAgeCritical { get; set; } = TimeSpan.FromHours(36);

    /// <summary>Runs looked at for the success rate.</summary>
    public int SuccessRateRuns { get; set; } = 20;

    public double SuccessRateWarning { get; set; } = 0.9;

    public double SuccessRateCritical { get; set; } = 0.8;

    public int ConsecutiveFailuresCritical { get; set; } = 3;

    /// <summary>Share of the repository's file system that must stay free.</summary>
    public double FreeSpaceWarning { get; set; } = 0.2;

    public double FreeSpaceCritical { get; set; } = 0.1;

    /// <summary>A backup this many times larger or smaller than the trailing median is an anomaly.</summary>
    public double SizeAnomalyFactor { get; set; } = 3.0;
}

/// <summary>Drill: how drills run on this host (docs/operations/drills.md).</summary>
public sealed class DrillOptions
{
    /// <summary>Where the HTML and JSON reports go (default: drills/ next to the catalog).</summary>
    public string? ReportsDirectory { get; set; }

    /// <summary>Where scratch clusters and directories are created (default: the system temp directory).</summary>
    public string? ScratchDirectory { get; set; }

    /// <summary>A drill that runs longer fails (and cleans up).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Run the scratch server under nice -n 10 and ionice -c 3, and the lifeboat drill process at low priority.</summary>
    public bool LowPriority { get; set; } = true;

    /// <summary>Free space needed beyond the backup's size (WAL the scratch server writes and fetches).</summary>
    public long WalMarginBytes { get; set; } = 256L << 20;

    /// <summary>shared_buffers of the scratch server (the production value could take the host's memory).</summary>
    public string SharedBuffers { get; set; } = "128MB";

    internal void Validate(string configPath)
    {
        if (Timeout <= TimeSpan.Zero || WalMarginBytes < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Drill:Timeout must be positive and Drill:WalMarginBytes not negative in {configPath}", "for example \"Timeout\": \"00:30:00\"");
        }

        if (string.IsNullOrWhiteSpace(SharedBuffers))
        {
            throw new LifeboatException(ErrorCode.Config, $"Drill:SharedBuffers in {configPath} is empty", "use a PostgreSQL size such as 128MB");
        }
    }
}

/// <summary>Sources:NAME:Drill — what a drill of a cluster source checks besides amcheck and the restore itself.</summary>
public sealed class DrillSourceOptions
{
    /// <summary>Count the rows of only the N largest tables (by pg_class.reltuples) at backup time; 0: none; not set: every table.</summary>
    public int? RowCountTables { get; set; }

    /// <summary>The database whose tables are counted (default: the database of the source's connection).</summary>
    public string? RowCountDatabase { get; set; }

    /// <summary>Queries run on the restored cluster, each with its expected result.</summary>
    public List<SmokeQueryOptions> SmokeQueries { get; set; } = [];

    internal void Validate(string source, string configPath)
    {
        if (RowCountTables is < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{source}:Drill:RowCountTables = {RowCountTables} in {configPath} is negative", "use 0 (no counts), N (the N largest tables), or remove it (every table)");
        }

        for (var i = 0; i < SmokeQueries.Count; i++)
        {
            var q = SmokeQueries[i];
            var what = $"Sources:{source}:Drill:SmokeQueries:{i}";
            if (string.IsNullOrWhiteSpace(q.Sql))
            {
                throw new LifeboatException(ErrorCode.Config, $"{what} in {configPath} has no Sql", "give the query whose first column of the first row is checked, e.g. SELECT count(*) FROM events");
            }

            if (!Drills.SmokeExpectation.TryParse(q.Expect, out _, out var error))
            {
                throw new LifeboatException(ErrorCode.Config, $"{what}:Expect in {configPath}: {error}", "write an operator and a value: '>= 1', '= 42', '!= 0', '= open', '= null'");
            }
        }
    }
}

/// <summary>One smoke query of a drill: SQL run on the restored cluster and the result it must give.</summary>
public sealed class SmokeQueryOptions
{
    /// <summary>A name for the report (default: the SQL).</summary>
    public string? Name { get; set; }

    /// <summary>The database to run it in (default: RowCountDatabase, else the connection's database).</summary>
    public string? Database { get; set; }

    /// <summary>The query; its first column of the first row is compared.</summary>
    public string? Sql { get; set; }

    /// <summary>The expectation: an operator (=, !=, &lt;, &lt;=, &gt;, &gt;=) and a value, e.g. '&gt;= 1'.</summary>
    public string? Expect { get; set; }
}
