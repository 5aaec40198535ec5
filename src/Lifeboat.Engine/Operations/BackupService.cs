using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.Operations;

/// <summary>Runs a backup of a configured source, whatever its kind.</summary>
public static class BackupService
{
    /// <summary>
    /// Backs up to the primary target, then replicates to every secondary with ReplicateAfterBackup. A secondary that fails
    /// is reported in <see cref="BackupOutcome.Replication"/> and recorded; it never fails the backup, which is committed
    /// on the primary (the next replicate catches the secondary up).
    /// </summary>
    /// <param name="replicate">False: the caller replicates later (a stack, once its record is committed).</param>
    public static async Task<BackupOutcome> RunAsync(EngineContext context, string sourceName, string? type, IProgress<BackupProgress>? progress, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? tags = null, bool replicate = true)
    {
        var outcome = await RunOnPrimaryAsync(context, sourceName, type, progress, tags, cancellationToken);
        if (!replicate)
        {
            return outcome;
        }

        var (report, error) = await ReplicateAfterBackupAsync(context, cancellationToken);
        return outcome with { Replication = report, ReplicationError = error };
    }

    /// <summary>Replication after a backup: never throws for a target; null report when there is nothing to replicate to.</summary>
    public static async Task<(ReplicateReport? Report, string? Error)> ReplicateAfterBackupAsync(EngineContext context, CancellationToken cancellationToken)
    {
        if (!context.Options.Targets.Values.Any(t => t.ReplicateAfterBackup))
        {
            return (null, null);
        }

        try
        {
            return (await ReplicationService.RunAsync(context, null, afterBackup: true, null, cancellationToken), null);
        }
        catch (LifeboatException ex)
        {
            return (null, ex.Message);
        }
    }

    private static Task<BackupOutcome> RunOnPrimaryAsync(EngineContext context, string sourceName, string? type, IProgress<BackupProgress>? progress, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
        => RunRecorder.RecordAsync(
            context,
            type ?? Catalog.JobKinds.Backup,
            sourceName,
            null,
            async () =>
            {
                var outcome = await RunCoreAsync(context, sourceName, type, tags, progress, cancellationToken);
                await RunRecorder.CacheBackupAsync(context, outcome.Manifest, cancellationToken);
                return outcome;
            },
            o => new RunFigures(o.Manifest.Stats.BytesRead, o.Manifest.Stats.StoredBytes, o.Manifest.Id, o.Problems.Count > 0 ? new System.Text.Json.Nodes.JsonArray(o.Problems.Select(p => (System.Text.Json.Nodes.JsonNode?)System.Text.Json.Nodes.JsonValue.Create(p)).ToArray()).ToJsonString() : null),
            cancellationToken);

    /// <summary>Checks a source before the repository is touched: bad input (exit 2) writes nothing.</summary>
    public static async Task CheckSourceAsync(string sourceName, SourceOptions source, CancellationToken cancellationToken)
    {
        switch (source.Kind)
        {
            case SourceKinds.Files:
                FilesBackup.CheckSourcePath(sourceName, source);
                break;
            case SourceKinds.Cluster:
                ClusterBackup.CheckSource(sourceName, source);
                break;
            case SourceKinds.Config:
                ConfigBackup.Check(sourceName, source, null);
                break;
            case SourceKinds.Database:
                await LogicalBackup.CheckSourceAsync(sourceName, source, cancellationToken);
                break;
        }
    }

    private static async Task<BackupOutcome> RunCoreAsync(EngineContext context, string sourceName, string? type, IReadOnlyDictionary<string, string>? tags, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var source = context.GetSource(sourceName);
        await CheckSourceAsync(sourceName, source, cancellationToken);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        await SpaceCheck.EnsureAsync(repository, sourceName, source, cancellationToken);
        var request = new BackupRequest { Type = type, Writer = context.WriterOptions, Tags = tags };
        return source.Kind switch
        {
            SourceKinds.Files => await new FilesBackup(repository, sourceName, source).RunAsync(request, progress, cancellationToken),
            SourceKinds.Config => await ConfigBackup.RunAsync(repository, sourceName, source, request, progress, cancellationToken),
            SourceKinds.Database => await new LogicalBackup(repository, sourceName, source, context.LoggerFactory.CreateLogger("Lifeboat.Logical")).RunAsync(request, progress, cancellationToken),
            SourceKinds.Cluster => await new ClusterBackup(repository, sourceName, source, context.LoggerFactory.CreateLogger("Lifeboat.Cluster")).RunAsync(request, progress, cancellationToken),
            _ => throw new LifeboatException(ErrorCode.Config, $"source '{sourceName}' has kind '{source.Kind}', which this build cannot back up"),
        };
    }
}
