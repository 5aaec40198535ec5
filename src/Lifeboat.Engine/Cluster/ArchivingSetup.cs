using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Server;

namespace Lifeboat.Engine.Cluster;

/// <summary>A server setting archiving needs, with its current and wanted value.</summary>
public sealed record SettingChange(string Name, string Current, string Wanted, bool NeedsRestart)
{
    public bool Changes => Current != Wanted;

    public string Sql => $"ALTER SYSTEM SET {Name} = '{Wanted.Replace("'", "''", StringComparison.Ordinal)}';";
}

public sealed record ArchivingPlan(IReadOnlyList<SettingChange> Settings, bool Applied, bool RestartNeeded, bool Reloaded);

/// <summary>
/// The settings continuous archiving needs (wal_level, archive_mode, archive_command, archive_timeout), printed or
/// applied through ALTER SYSTEM — never by editing postgresql.conf. Idempotent: settings already right are left alone.
/// </summary>
public static class ArchivingSetup
{
    public static async Task<ArchivingPlan> RunAsync(ClusterSourceOptions source, string archiveCommand, TimeSpan archiveTimeout, bool apply, CancellationToken cancellationToken)
    {
        await using var server = await PgServer.ConnectAsync(source.Postgres(), cancellationToken);
        var info = await server.GetInfoAsync(cancellationToken);
        var pendingRestart = await server.PendingSettingsAsync(["wal_level", "archive_mode"], cancellationToken);
        var settings = new List<SettingChange>
        {
            new("wal_level", info.WalLevel, info.WalLevel == "logical" ? "logical" : "replica", true),
            new("archive_mode", info.ArchiveMode, info.ArchiveMode == "always" ? "always" : "on", true),
            new("archive_command", info.ArchiveCommand, archiveCommand, false),
            new("archive_timeout", $"{info.ArchiveTimeoutSeconds}s", info.ArchiveTimeoutSeconds is > 0 and var t && t <= archiveTimeout.TotalSeconds ? $"{t}s" : $"{(int)archiveTimeout.TotalSeconds}s", false),
        };

        // A setting changed by ALTER SYSTEM but not yet active (restart pending) counts as done, but still needs the restart.
        settings = settings.Select(s => pendingRestart.TryGetValue(s.Name, out var pending) && pending == s.Wanted ? s with { Current = s.Wanted } : s).ToList();
        var restartNeeded = settings.Any(s => s.Changes && s.NeedsRestart) || settings.Any(s => s.NeedsRestart && pendingRestart.ContainsKey(s.Name));
        if (!apply || settings.All(s => !s.Changes))
        {
            return new ArchivingPlan(settings, false, restartNeeded, false);
        }

        foreach (var s in settings.Where(s => s.Changes))
        {
            await server.ExecuteAsync(s.Sql, cancellationToken);
        }

        await server.ExecuteAsync("SELECT pg_reload_conf()", cancellationToken);
        return new ArchivingPlan(settings, true, restartNeeded, true);
    }
}
