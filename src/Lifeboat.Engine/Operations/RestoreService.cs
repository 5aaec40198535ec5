using Lifeboat.Core;
using Lifeboat.Engine.Files;
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
}

public sealed record RestoreOutcome(Manifest Manifest, string Destination, FilesRestoreResult Result);

public static class RestoreService
{
    public static async Task<RestoreOutcome> RunAsync(EngineContext context, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
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
