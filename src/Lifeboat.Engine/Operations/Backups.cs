using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>Finding a source's backups in a repository: by id, the latest, the latest before a time.</summary>
public static class Backups
{
    /// <summary>
    /// The newest readable backup of the source that <paramref name="matches"/> (the parent of an incremental); damaged
    /// manifests are skipped. Reads manifests newest first and stops at the first match.
    /// </summary>
    public static async Task<Manifest?> LatestAsync(Repo repository, string sourceName, CancellationToken cancellationToken, Func<Manifest, bool>? matches = null)
    {
        var ids = await repository.ListBackupIdsAsync(cancellationToken);
        for (var i = ids.Count - 1; i >= 0; i--)
        {
            Manifest manifest;
            try
            {
                manifest = await repository.LoadManifestAsync(ids[i], cancellationToken);
            }
            catch (DamageException)
            {
                continue;
            }

            if (manifest.Source == sourceName && (matches is null || matches(manifest)))
            {
                return manifest;
            }
        }

        return null;
    }

    /// <summary>The backup named by id (it must belong to the source), or the latest backup of the source.</summary>
    public static async Task<Manifest> FindAsync(Repo repository, string sourceName, string? backupId, CancellationToken cancellationToken)
    {
        if (backupId is not null)
        {
            var manifest = await repository.LoadManifestAsync(backupId, cancellationToken);
            if (manifest.Source != sourceName)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"backup {backupId} belongs to source '{manifest.Source}', not '{sourceName}'", $"use «source» {manifest.Source}, or `lifeboat list --source {sourceName}` to see the backups of '{sourceName}'");
            }

            return manifest;
        }

        return await LatestAsync(repository, sourceName, cancellationToken)
               ?? throw new LifeboatException(ErrorCode.NotFound, $"source '{sourceName}' has no backup in {repository.DisplayName}", $"run `lifeboat backup --source {sourceName}` first");
    }

    /// <summary>
    /// The error for a backup id that is not among the physical backups of a cluster source: the same "there is no
    /// backup" as every other kind when the repository has no such backup, "belongs to source" when it is another
    /// source's, else "is not a physical backup" (another cluster, or a backup of another kind).
    /// </summary>
    public static async Task<LifeboatException> NotPhysicalAsync(Repo repository, string sourceName, string backupId, CancellationToken cancellationToken)
    {
        var manifest = await repository.LoadManifestAsync(backupId, cancellationToken); // throws NoSuchBackup
        return manifest.Source != sourceName
            ? new LifeboatException(ErrorCode.InvalidInput, $"backup {backupId} belongs to source '{manifest.Source}', not '{sourceName}'", $"use «source» {manifest.Source}, or `lifeboat list --source {sourceName}` to see the backups of '{sourceName}'")
            : new LifeboatException(ErrorCode.InvalidInput, $"backup {backupId} is not a physical backup of source '{sourceName}' (it is a {manifest.Kind} backup, or of another cluster)", $"`lifeboat list --source {sourceName}` shows its backups");
    }

    /// <summary>The newest backup of the source that finished at or before <paramref name="time"/>.</summary>
    public static async Task<Manifest> FindBeforeAsync(Repo repository, string sourceName, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var mine = manifests.Where(m => m.Source == sourceName).OrderBy(m => m.Finished).ToList();
        return mine.LastOrDefault(m => m.Finished <= time)
            ?? throw new LifeboatException(ErrorCode.InvalidInput, $"source '{sourceName}' has no backup finished at or before {time:yyyy-MM-dd HH:mm:ss zzz}" + (mine.Count > 0 ? $" (the oldest finished {mine[0].Finished:yyyy-MM-dd HH:mm:ss zzz})" : ""), $"`lifeboat list --source {sourceName}` shows its backups");
    }
}
