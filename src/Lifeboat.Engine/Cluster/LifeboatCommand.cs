namespace Lifeboat.Engine.Cluster;

/// <summary>
/// How PostgreSQL (archive_command, restore_command) runs this Lifeboat: $LIFEBOAT_SELF if set, else the `lifeboat`
/// launcher next to the program, else `dotnet lifeboat.dll`.
/// </summary>
public static class LifeboatCommand
{
    public static string Self(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("LIFEBOAT_SELF", out var self) && !string.IsNullOrWhiteSpace(self))
        {
            return self;
        }

        var launcher = Path.Combine(AppContext.BaseDirectory, "lifeboat");
        if (File.Exists(launcher))
        {
            return Postgres.Recovery.RecoveryConfig.ShellQuote(launcher);
        }

        var dll = Path.Combine(AppContext.BaseDirectory, "lifeboat.dll");
        var dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return Postgres.Recovery.RecoveryConfig.ShellQuote(dotnet) + " " + Postgres.Recovery.RecoveryConfig.ShellQuote(dll);
    }

    /// <summary>The archive_command for a source: <c>lifeboat --config F wal-push --source NAME %p</c>.</summary>
    public static string ArchiveCommand(string self, string configPath, string source)
        => $"{self} --config {Postgres.Recovery.RecoveryConfig.ShellQuote(configPath)} wal-push --source {source} %p";

    /// <summary>The restore_command for a source: <c>lifeboat --config F wal-fetch --source NAME %f %p</c>.</summary>
    /// <param name="from">The target wal-fetch reads first (restore --from); the others are still tried after it.</param>
    public static string RestoreCommand(string self, string configPath, string source, string? from = null)
        => $"{self} --config {Postgres.Recovery.RecoveryConfig.ShellQuote(configPath)} wal-fetch --source {source}{(from is null ? "" : " --from " + from)} %f %p";
}
