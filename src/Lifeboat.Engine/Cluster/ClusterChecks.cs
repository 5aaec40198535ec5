using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Platform;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Tools;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Engine.Cluster;

public enum CheckStatus
{
    [JsonStringEnumMemberName("ok")]
    Ok,
    [JsonStringEnumMemberName("warning")]
    Warning,
    [JsonStringEnumMemberName("failed")]
    Failed,
}

/// <summary>One finding of `lifeboat check`: what was checked, the verdict, the details and how to fix it.</summary>
/// <param name="Source">The source, or empty for the repository.</param>
public sealed record CheckResult([property: JsonIgnore] string Source, [property: JsonPropertyName("check")] string Name, CheckStatus Status, string Detail, string? Fix = null)
{
    [JsonPropertyName("source")]
    [JsonPropertyOrder(-1)]
    public string? SourceName => Source.Length == 0 ? null : Source;
}

/// <summary>
/// `lifeboat check`: finds every problem that would make a backup fail or be unrestorable, and says how to fix it.
/// Checks keep going after a failure so that one run reports everything.
/// </summary>
public static partial class ClusterChecks
{
    /// <summary>Extra WAL space to keep free beyond the estimated backup size, as a share of it.</summary>
    public const double WalMargin = 0.25;

    /// <summary>`lifeboat check` for a cluster source: data directory, connection, archiving settings (and a restart they wait for), the archive path as the server's OS user (<see cref="ServerSideCheck"/>), archiver, checksums, space.</summary>
    public static async Task CheckClusterAsync(string configPath, Lifeboat.Repository.Repository? repository, string name, ClusterSourceOptions source, IReadOnlyDictionary<string, string?> environment, List<CheckResult> results, CancellationToken cancellationToken)
    {
        void Add(string check, CheckStatus status, string detail, string? fix = null) => results.Add(new CheckResult(name, check, status, detail, fix));

        PgControl? control = null;
        try
        {
            control = PgControl.Read(source.PgData!);
            Add("pgdata", CheckStatus.Ok, $"{source.PgData} is readable (cluster {control.SystemIdentifier}, {control.StateText})");
            if (control.SystemIdentifier != source.SystemIdValue())
            {
                Add("system identifier", CheckStatus.Failed, $"{source.PgData} holds the cluster {control.SystemIdentifier}, but the source was added for {source.SystemIdentifier}", "if the cluster was re-created, add it as a new source");
            }

            var unreadable = FirstUnreadable(source.PgData!);
            if (unreadable is not null)
            {
                Add("pgdata permissions", CheckStatus.Failed, $"{unreadable} cannot be read by this user", "run lifeboat as the PostgreSQL OS user (usually postgres) or as root");
            }
        }
        catch (LifeboatException ex)
        {
            Add("pgdata", CheckStatus.Failed, ex.Message, ex.Hint);
        }

        ServerInfo? info = null;
        PgServer? server = null;
        try
        {
            server = await PgServer.ConnectAsync(source.Postgres(), cancellationToken);
            info = await server.GetInfoAsync(cancellationToken);
            Add("connection", CheckStatus.Ok, $"connected to {server.Display}: PostgreSQL {info.Version}");
        }
        catch (LifeboatException ex)
        {
            Add("connection", CheckStatus.Failed, ex.Message, ex.Hint);
        }

        await using (server)
        {
            if (info is not null && server is not null)
            {
                if (!PgBinaries.IsSupportedCluster(info.Major))
                {
                    Add("server version", CheckStatus.Failed, $"PostgreSQL {info.Version} is not supported", $"Lifeboat supports PostgreSQL {PgBinaries.OldestMajor} to {PgBinaries.NewestClusterMajor}");
                }
                else
                {
                    Add("server version", CheckStatus.Ok, $"PostgreSQL {info.Major} is supported" + (info.Major == 15 ? " (tested)" : ""));
                }

                if (control is not null && !SamePath(info.DataDirectory, source.PgData!))
                {
                    Add("data directory", CheckStatus.Failed, $"the server's data_directory is {info.DataDirectory}, but the source's PgData is {source.PgData}", "the connection and PgData must name the same cluster");
                }

                if (info.InRecovery)
                {
                    Add("primary", CheckStatus.Failed, "the server is a standby (in recovery)", "point the source at the primary");
                }

                var pending = await server.PendingSettingsAsync(["wal_level", "archive_mode"], cancellationToken);
                CheckRestartSetting("wal_level", info.WalLevel, "minimal", pending, name, info.Major, Add);
                CheckRestartSetting("archive_mode", info.ArchiveMode, "off", pending, name, info.Major, Add);
                CheckArchiveCommand(configPath, name, info.ArchiveCommand, Add);
                await ServerSideCheck.RunAsync(name, source, info.ArchiveCommand, environment, Add, cancellationToken);
                if (info.ArchiveTimeoutSeconds == 0 || info.ArchiveTimeoutSeconds > 300)
                {
                    Add("archive_timeout", CheckStatus.Warning, $"archive_timeout = {info.ArchiveTimeoutSeconds}s: an idle server may not archive its last changes for {(info.ArchiveTimeoutSeconds == 0 ? "an unbounded time" : info.ArchiveTimeoutSeconds + " s")} (the RPO)", $"`lifeboat archiving setup --source {name} --apply` sets 60s");
                }
                else
                {
                    Add("archive_timeout", CheckStatus.Ok, $"archive_timeout = {info.ArchiveTimeoutSeconds}s bounds the RPO of an idle server");
                }

                var stats = await server.GetArchiverStatsAsync(cancellationToken);
                if (stats.FailedCount > 0 && (stats.LastArchivedTime is null || stats.LastFailedTime > stats.LastArchivedTime))
                {
                    Add("archiving", CheckStatus.Failed, $"archiving is failing: {stats.FailedCount} failure(s), the last for {stats.LastFailedWal} at {stats.LastFailedTime:u}", "look for 'archive command failed' in the PostgreSQL log; `lifeboat wal-push` prints the reason");
                }
                else if (stats.FailedCount > 0)
                {
                    Add("archiving", CheckStatus.Warning, $"archiving recovered after {stats.FailedCount} failure(s) (the last for {stats.LastFailedWal} at {stats.LastFailedTime:u}); last archived {stats.LastArchivedWal} at {stats.LastArchivedTime:u}");
                }
                else
                {
                    Add("archiving", CheckStatus.Ok, stats.LastArchivedWal is null ? "no failures (nothing archived yet)" : $"last archived {stats.LastArchivedWal} at {stats.LastArchivedTime:u}, no failures");
                }

                Add("data checksums", info.DataChecksums ? CheckStatus.Ok : CheckStatus.Warning, info.DataChecksums ? "data checksums are on: damaged pages are detected while backing up" : "data checksums are off: damaged pages cannot be detected", info.DataChecksums ? null : "enable them with pg_checksums --enable while the cluster is stopped");

                if (repository is not null)
                {
                    await CheckSpaceAsync(repository, server, name, Add, cancellationToken);
                }
            }
        }
    }

    /// <summary>
    /// wal_level or archive_mode: fine, or wrong — and then either set already (ALTER SYSTEM, `archiving setup --apply`)
    /// and waiting for the restart, or not set at all.
    /// </summary>
    private static void CheckRestartSetting(string setting, string current, string bad, Dictionary<string, string> pending, string name, int major, Action<string, CheckStatus, string, string?> add)
    {
        if (current != bad)
        {
            add(setting, CheckStatus.Ok, $"{setting} = {current}", null);
        }
        else if (pending.TryGetValue(setting, out var waiting) && waiting != bad)
        {
            add(setting, CheckStatus.Failed, $"{setting} = {current}; {(waiting.Length > 0 ? "'" + waiting + "'" : "a new value")} is set and waits for a restart of PostgreSQL", $"restart PostgreSQL to apply (Debian: systemctl restart postgresql@{major}-main)");
        }
        else
        {
            add(setting, CheckStatus.Failed, $"{setting} = {current}", $"run `lifeboat archiving setup --source {name} --apply`, then restart PostgreSQL");
        }
    }

    private static void CheckArchiveCommand(string configPath, string name, string command, Action<string, CheckStatus, string, string?> add)
    {
        if (!command.Contains("wal-push", StringComparison.Ordinal) || !command.Contains("lifeboat", StringComparison.Ordinal))
        {
            add("archive_command", CheckStatus.Failed, $"archive_command does not call lifeboat wal-push: '{command}'", $"run `lifeboat archiving setup --source {name} --apply`");
            return;
        }

        var m = ConfigArgument().Match(command);
        var configured = m.Success ? m.Groups["path"].Value.Trim('\'', '"') : null;
        if (configured is null || !SamePath(configured, configPath))
        {
            add("archive_command", CheckStatus.Failed, $"archive_command uses {(configured is null ? "no --config" : "the configuration " + configured)}, not {configPath}", $"run `lifeboat archiving setup --source {name} --apply` with this configuration");
            return;
        }

        var sourceMatch = SourceArgument().Match(command);
        if (sourceMatch.Success && sourceMatch.Groups["name"].Value != name)
        {
            add("archive_command", CheckStatus.Failed, $"archive_command archives into source '{sourceMatch.Groups["name"].Value}', not '{name}'", $"run `lifeboat archiving setup --source {name} --apply`");
            return;
        }

        add("archive_command", CheckStatus.Ok, "archive_command calls lifeboat wal-push with this configuration", null);
    }

    /// <summary>Free space on a local repository against the estimated size of the next backup plus a WAL margin.</summary>
    private static async Task CheckSpaceAsync(Lifeboat.Repository.Repository repository, PgServer server, string name, Action<string, CheckStatus, string, string?> add, CancellationToken cancellationToken)
    {
        if (repository.Target.Innermost() is not LocalTarget local)
        {
            return;
        }

        var databaseBytes = await server.ScalarAsync<long>("select sum(pg_database_size(oid))::int8 from pg_database", cancellationToken);
        var estimate = await EstimateAsync(repository, name, databaseBytes, cancellationToken);
        var needed = (long)(estimate * (1 + WalMargin));
        var free = new DriveInfo(local.Root).AvailableFreeSpace;
        add("repository space", free >= needed ? CheckStatus.Ok : CheckStatus.Failed,
            $"{ByteSize.Format(free)} free on the repository's file system; the next backup needs about {ByteSize.Format(estimate)} plus a WAL margin ({ByteSize.Format(needed)} in all)",
            free >= needed ? null : "free space or move the repository before the next backup");
    }

    /// <summary>
    /// The estimated bytes a backup will add: the compressed size of the last backup of the source (an upper bound for an
    /// incremental), or, for the first backup, the database size at a conservative 2:1 compression.
    /// </summary>
    public static async Task<long> EstimateAsync(Lifeboat.Repository.Repository repository, string name, long databaseBytes, CancellationToken cancellationToken)
    {
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var previous = manifests.Where(m => m.Source == name && m.Type == "full").OrderBy(m => m.Id, StringComparer.Ordinal).LastOrDefault();
        return previous is not null && previous.Stats.NewBytes > 0
            ? Math.Max(previous.Stats.StoredBytes, databaseBytes / 20)
            : databaseBytes / 2;
    }

    private static string? FirstUnreadable(string pgdata)
    {
        foreach (var dir in new[] { pgdata, Path.Combine(pgdata, "base"), Path.Combine(pgdata, "global") })
        {
            try
            {
                _ = Directory.EnumerateFileSystemEntries(dir).FirstOrDefault();
            }
            catch (UnauthorizedAccessException)
            {
                return dir;
            }
            catch (DirectoryNotFoundException)
            {
                return dir;
            }
        }

        return null;
    }

    private static bool SamePath(string a, string b)
    {
        static string Real(string p)
        {
            var full = Path.GetFullPath(p).TrimEnd('/');
            return Unix.Lstat(full) is { Kind: FileKind.Symlink } ? new FileInfo(full).ResolveLinkTarget(true)?.FullName ?? full : full;
        }

        return string.Equals(Real(a), Real(b), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"--config\s+(?<path>'[^']*'|""[^""]*""|\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex ConfigArgument();

    [GeneratedRegex(@"--source\s+(?<name>\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex SourceArgument();
}
