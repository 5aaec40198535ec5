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

    /// <summary>What `lifeboat serve` needs: rate limits, HTTPS.</summary>
    public ServerOptions Server { get; set; } = new();

    /// <summary>The event log and its delivery: retention, webhooks, e-mail and chat channels, routing rules.</summary>
    public EventsOptions Events { get; set; } = new();

    /// <summary>Stacks:NAME: the sources of one application, backed up and restored together.</summary>
    public Dictionary<string, StackOptions> Stacks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tenants (docs/tenants.md): where their workspaces are, how long a removed one's data is kept. The server's only.</summary>
    public TenantsOptions Tenants { get; set; } = new();

    /// <summary>Approval policies kept in this file (docs/approvals.md), besides those set with `approvals policy set`.</summary>
    public ApprovalsOptions Approvals { get; set; } = new();

    /// <summary>Checks every setting; throws a <see cref="LifeboatException"/> (exit 2) naming the first bad one.</summary>
    public void Validate(string configPath)
    {
        Repository.Validate(configPath);
        foreach (var (name, source) in Sources)
        {
            SourceNames.Validate(name, $"source name in {configPath}");
            source.Validate(name, configPath);
        }

        if (Catalog.ConnectionString is { } catalog)
        {
            Postgres.Connections.PgConnectionString.Parse(catalog, $"Catalog:ConnectionString in {configPath}", ErrorCode.Config);
        }

        Drill.Validate(configPath);
        Server.Validate(configPath);
        Events.Validate(configPath);
        Approvals.Validate(configPath);
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

    /// <summary>Local targets: objects 0640 and directories 0750, so that the directory's group may read them (default: 0600 and 0700).</summary>
    public bool GroupReadable { get; set; }

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

/// <summary>Tenants:… of the server's configuration (docs/tenants.md).</summary>
public sealed class TenantsOptions
{
    /// <summary>The directory holding one directory per tenant (default: tenants/ next to the server's configuration file).</summary>
    public string? Directory { get; set; }

    /// <summary>How long a removed tenant's data is kept before it is deleted (resume brings it back until then).</summary>
    public TimeSpan RemovalGrace { get; set; } = TimeSpan.FromDays(30);
}

/// <summary>Catalog: run history, schedule state and a cache of the repository.</summary>
public sealed class CatalogOptions
{
    /// <summary>The SQLite file (default: lifeboat.db next to the configuration file).</summary>
    public string? Path { get; set; }

    /// <summary>A PostgreSQL connection string (libpq keyword/value, URI or Npgsql's form): use a shared catalog instead of SQLite (several server nodes).</summary>
    public string? ConnectionString { get; set; }
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

    /// <summary>Warn when the last drill of a source is older (a drill schedule's interval + 1 h when there is one); zero: never.</summary>
    public TimeSpan DrillAgeWarning { get; set; } = TimeSpan.FromDays(31);

    /// <summary>How often lifeboat serve evaluates the checks and raises health alerts on a change (zero: never).</summary>
    public TimeSpan EvaluateInterval { get; set; } = TimeSpan.FromMinutes(1);
}
