using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Postgres.Connections;
using Microsoft.Extensions.Configuration;

namespace Lifeboat.Engine.Configuration;

public static class SourceKinds
{
    public const string Files = "files";
    public const string Cluster = "cluster";
    public const string Database = "database";
    public const string Config = "config";

    public static IReadOnlyList<string> All { get; } = [Files, Cluster, Database, Config];
}

/// <summary>
/// Sources:NAME — what every kind of source has (its kind, retention and objectives). Each kind has its own options type
/// (<see cref="FilesSourceOptions"/>, <see cref="ClusterSourceOptions"/>, <see cref="DatabaseSourceOptions"/>,
/// <see cref="ConfigSourceOptions"/>): a setting of another kind is an unknown setting, named in the error.
/// </summary>
public abstract class SourceOptions
{
    protected SourceOptions(string kind) => Kind = kind;

    /// <summary>files, cluster, database or config; fixed by the options type.</summary>
    public string Kind { get; set; }

    /// <summary>Which backups `expire` keeps; none set: keep everything.</summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Recovery point objective: the most data loss accepted (health warns past it).</summary>
    public TimeSpan? Rpo { get; set; }

    /// <summary>Recovery time objective: the longest restore accepted (drills report a violation past it).</summary>
    public TimeSpan? Rto { get; set; }

    private IReadOnlyDictionary<string, string?>? _environment;

    /// <summary>Checks every setting; throws a <see cref="LifeboatException"/> (exit 2) naming the first bad one.</summary>
    public virtual void Validate(string name, string configPath) => Retention.ToPolicy().Validate($"Sources:{name}:Retention");

    /// <summary>
    /// The environment of the call (the workspace's) that a connection string is resolved in: PG* variables, HOME for
    /// ~/.pgpass. Set when the configuration is loaded; options made in code use this process's environment.
    /// </summary>
    public void UseEnvironment(IReadOnlyDictionary<string, string?> environment) => _environment = environment;

    /// <summary>A connection string of this source, resolved as libpq would (<see cref="PgConnection"/>).</summary>
    protected PgConnection Resolve(string? connection)
        => PgConnection.Resolve(connection ?? "", _environment ?? PgConnection.ProcessVariables(), "the source's Connection");

    /// <summary>Checks the syntax of a connection string setting (exit 2 naming the setting and the bad part).</summary>
    protected static void ValidateConnection(string connection, string name, string configPath)
        => PgConnectionString.Parse(connection, $"Sources:{name}:Connection in {configPath}", ErrorCode.Config);

    /// <summary>Reads Sources:NAME into the options type of its kind (default files); unknown settings are errors.</summary>
    internal static SourceOptions Bind(IConfigurationSection section, string configPath)
    {
        var kind = section["Kind"] ?? SourceKinds.Files;
        SourceOptions? options = kind switch
        {
            SourceKinds.Files => section.Get<FilesSourceOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new FilesSourceOptions(),
            SourceKinds.Cluster => section.Get<ClusterSourceOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new ClusterSourceOptions(),
            SourceKinds.Database => section.Get<DatabaseSourceOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new DatabaseSourceOptions(),
            SourceKinds.Config => section.Get<ConfigSourceOptions>(o => o.ErrorOnUnknownConfiguration = true) ?? new ConfigSourceOptions(),
            _ => null,
        };
        return options ?? throw new LifeboatException(ErrorCode.Config, $"source '{section.Key}' in {configPath} has the unknown kind '{kind}'", "use kind 'files', 'config', 'database' or 'cluster'");
    }
}

/// <summary>A directory tree (uploads, documents, logs).</summary>
public sealed class FilesSourceOptions() : SourceOptions(SourceKinds.Files)
{
    /// <summary>The directory the source protects.</summary>
    public string? Path { get; set; }

    public List<string> Include { get; set; } = [];

    public List<string> Exclude { get; set; } = [];

    public override void Validate(string name, string configPath)
    {
        if (string.IsNullOrWhiteSpace(Path) || !System.IO.Path.IsPathRooted(Path))
        {
            throw new LifeboatException(ErrorCode.Config, $"source '{name}' in {configPath} needs an absolute Path (it has '{Path}')", $"set Sources:{name}:Path to the directory to protect");
        }

        foreach (var glob in Include.Concat(Exclude))
        {
            _ = new GlobPattern(glob);
        }

        base.Validate(name, configPath);
    }
}

/// <summary>Configuration files that hold secrets (.env, appsettings.*.json, YAML): only into an encrypted repository.</summary>
public sealed class ConfigSourceOptions() : SourceOptions(SourceKinds.Config)
{
    /// <summary>The files and directories holding configuration and secrets.</summary>
    public List<string> Paths { get; set; } = [];

    public override void Validate(string name, string configPath)
    {
        if (Paths.Count == 0 || Paths.Any(p => !System.IO.Path.IsPathRooted(p)))
        {
            throw new LifeboatException(ErrorCode.Config, $"config source '{name}' in {configPath} needs absolute Paths (it has {(Paths.Count == 0 ? "none" : string.Join(", ", Paths))})", $"set Sources:{name}:Paths to the files and directories that hold configuration");
        }

        base.Validate(name, configPath);
    }
}

/// <summary>A PostgreSQL cluster: physical backups and continuous WAL archiving.</summary>
public sealed class ClusterSourceOptions() : SourceOptions(SourceKinds.Cluster)
{
    /// <summary>The data directory (PGDATA).</summary>
    public string? PgData { get; set; }

    /// <summary>How to connect: libpq keyword/value, a postgresql:// URI or Npgsql's form; a password belongs in ~/.pgpass, not here.</summary>
    public string? Connection { get; set; }

    /// <summary>The server, as libpq would reach it with the call's environment (PG* variables, service file, ~/.pgpass).</summary>
    public PgConnection Postgres() => Resolve(Connection);

    /// <summary>The system identifier recorded by add-cluster; WAL from any other cluster is refused.</summary>
    public string? SystemIdentifier { get; set; }

    /// <summary>How long a backup waits for the WAL it needs to be archived.</summary>
    public TimeSpan ArchiveTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>What drills check beyond the restore itself (row counts recorded at backup time, smoke queries).</summary>
    public DrillSourceOptions Drill { get; set; } = new();

    /// <summary>How wal-fetch (restore_command) reads ahead of recovery (<see cref="WalFetchOptions"/>).</summary>
    public WalFetchOptions WalFetch { get; set; } = new();

    public ulong SystemIdValue() => ulong.Parse(SystemIdentifier!, CultureInfo.InvariantCulture);

    public override void Validate(string name, string configPath)
    {
        if (string.IsNullOrWhiteSpace(PgData) || !System.IO.Path.IsPathRooted(PgData))
        {
            throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} needs an absolute PgData (it has '{PgData}')", $"set Sources:{name}:PgData to the data directory");
        }

        if (string.IsNullOrWhiteSpace(Connection))
        {
            throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} has no Connection", $"set Sources:{name}:Connection, for example \"host=/var/run/postgresql user=postgres\"");
        }

        ValidateConnection(Connection, name, configPath);

        if (SystemIdentifier is null || !ulong.TryParse(SystemIdentifier, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new LifeboatException(ErrorCode.Config, $"cluster source '{name}' in {configPath} has no valid SystemIdentifier ('{SystemIdentifier}')", "add the source with `lifeboat source add-cluster`, which reads it from pg_control");
        }

        base.Validate(name, configPath);
        Drill.Validate(name, configPath);
        WalFetch.Validate(name, configPath);
        if (ArchiveTimeout <= TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{name}:ArchiveTimeout in {configPath} must be positive", "use a duration such as 00:01:00");
        }
    }
}

/// <summary>One database: logical dumps with pg_dump.</summary>
public sealed class DatabaseSourceOptions() : SourceOptions(SourceKinds.Database)
{
    /// <summary>How to connect to the server: libpq keyword/value, a postgresql:// URI or Npgsql's form; a password belongs in ~/.pgpass.</summary>
    public string? Connection { get; set; }

    /// <summary>The server, as libpq would reach it with the call's environment (PG* variables, service file, ~/.pgpass).</summary>
    public PgConnection Postgres() => Resolve(Connection);

    /// <summary>The database the source dumps.</summary>
    public string? Database { get; set; }

    /// <summary>Dump the schema only, no data.</summary>
    public bool SchemaOnly { get; set; }

    /// <summary>Tables (pg_dump patterns) left out of the dump entirely.</summary>
    public List<string> ExcludeTables { get; set; } = [];

    /// <summary>Tables (pg_dump patterns) whose definition is dumped but not their rows.</summary>
    public List<string> ExcludeTableData { get; set; } = [];

    /// <summary>Parallel pg_dump and pg_restore jobs.</summary>
    public int Jobs { get; set; } = 2;

    /// <summary>What drills check beyond the restore itself (smoke queries).</summary>
    public DrillSourceOptions Drill { get; set; } = new();

    public override void Validate(string name, string configPath)
    {
        if (string.IsNullOrWhiteSpace(Connection) || string.IsNullOrWhiteSpace(Database))
        {
            throw new LifeboatException(ErrorCode.Config, $"database source '{name}' in {configPath} needs a Connection and a Database", $"add it with `lifeboat source add-database {name} --conn CONNSTRING --database DB`");
        }

        ValidateConnection(Connection, name, configPath);

        Drill.Validate(name, configPath);
        if (Jobs is < 1 or > 64)
        {
            throw new LifeboatException(ErrorCode.Config, $"Sources:{name}:Jobs = {Jobs} in {configPath} is out of range", "use 1 to 64 parallel jobs");
        }

        base.Validate(name, configPath);
    }
}
