using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

public sealed record RestoreRequest
{
    public required string SourceName { get; init; }

    /// <summary>A backup id; null for the latest backup of the source.</summary>
    public string? BackupId { get; init; }

    /// <summary>Where to restore; null restores to the original place (requires <see cref="Overwrite"/>).</summary>
    public string? Destination { get; init; }

    public IReadOnlyList<string> Paths { get; init; } = [];

    public bool Overwrite { get; init; }

    // Cluster sources.
    public RecoveryTarget Target { get; init; } = RecoveryTarget.Latest;

    public string? TargetTimeline { get; init; }

    public bool Delta { get; init; }

    public bool Force { get; init; }

    public IReadOnlyDictionary<uint, string> TablespaceMap { get; init; } = new Dictionary<uint, string>();

    public string TargetAction { get; init; } = "promote";

    public bool ArchiveOff { get; init; }
}

/// <summary>A finished restore: of a file tree (<see cref="Files"/>) or of a cluster (<see cref="Cluster"/>).</summary>
public sealed record RestoreOutcome(Manifest Manifest, string Destination, FilesRestoreResult? Files, ClusterRestoreResult? Cluster = null);

public static class RestoreService
{
    public static async Task<RestoreOutcome> RunAsync(EngineContext context, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var source = context.GetSource(request.SourceName);
        if (source.Kind == SourceKinds.Cluster)
        {
            return await RunClusterAsync(context, source, request, progress, cancellationToken);
        }

        if (request.Target.Kind != RecoveryTargetKind.Latest || request.TargetTimeline is not null || request.Delta || request.Force)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{request.SourceName}' is a {source.Kind} source: recovery targets, --delta and --force apply to clusters", "restore a file tree with --to DIR [--backup ID] [--path GLOB]... [--overwrite]");
        }

        var globs = request.Paths.Select(p => new GlobPattern(p)).ToList();
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var manifest = await FindBackupAsync(repository, request.SourceName, request.BackupId, cancellationToken);
        string destination;
        if (request.Destination is not null)
        {
            destination = context.ResolvePath(request.Destination);
        }
        else if (request.Overwrite && manifest.Paths is [var original])
        {
            destination = original;
        }
        else
        {
            throw new LifeboatException(ErrorCode.Usage, "restore needs --to DIR", $"restore into a new directory with --to DIR; to restore over the original place ({manifest.Paths?.FirstOrDefault() ?? "unknown"}) pass --overwrite");
        }

        var index = await repository.LoadIndexAsync(cancellationToken);
        var result = await new FilesRestore(repository, index).RunAsync(
            manifest,
            new FilesRestoreRequest { Destination = destination, Paths = globs, Overwrite = request.Overwrite, Workers = context.WriterOptions.Workers },
            progress,
            cancellationToken);
        return new RestoreOutcome(manifest, destination, result);
    }

    private static async Task<RestoreOutcome> RunClusterAsync(EngineContext context, SourceOptions source, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Destination is null)
        {
            throw new LifeboatException(ErrorCode.Usage, "restore of a cluster needs --to DIR", "restore into a new data directory with --to DIR; to rewrite an existing one, add --delta (it must not be running)");
        }

        if (request.Paths.Count > 0 || request.Overwrite)
        {
            throw new LifeboatException(ErrorCode.Usage, "--path and --overwrite apply to file-tree sources", "for a cluster use --delta or --force");
        }

        var self = LifeboatCommand.Self(context.Environment);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var result = await new ClusterRestore(repository, request.SourceName, source).RunAsync(
            new ClusterRestoreRequest
            {
                Destination = context.ResolvePath(request.Destination),
                BackupId = request.BackupId,
                Target = request.Target,
                TargetTimeline = request.TargetTimeline,
                Delta = request.Delta,
                Force = request.Force,
                TablespaceMap = request.TablespaceMap,
                TargetAction = request.TargetAction,
                ArchiveOff = request.ArchiveOff,
                RestoreCommand = LifeboatCommand.RestoreCommand(self, context.ConfigFile.Path, request.SourceName),
                Workers = context.WriterOptions.Workers,
            },
            progress,
            cancellationToken);
        return new RestoreOutcome(result.Backup, result.Destination, null, result);
    }

    /// <summary>The backup named by id (it must belong to the source), or the latest backup of the source.</summary>
    public static async Task<Manifest> FindBackupAsync(Repo repository, string sourceName, string? backupId, CancellationToken cancellationToken)
    {
        if (backupId is not null)
        {
            var manifest = await repository.LoadManifestAsync(backupId, cancellationToken);
            if (manifest.Source != sourceName)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"backup {backupId} belongs to source '{manifest.Source}', not '{sourceName}'", $"use --source {manifest.Source}, or `lifeboat list --source {sourceName}` to see the backups of '{sourceName}'");
            }

            return manifest;
        }

        return await FilesBackup.FindParentAsync(repository, sourceName, cancellationToken)
               ?? throw new LifeboatException(ErrorCode.NotFound, $"source '{sourceName}' has no backup in {repository.DisplayName}", $"run `lifeboat backup --source {sourceName}` first");
    }
}
