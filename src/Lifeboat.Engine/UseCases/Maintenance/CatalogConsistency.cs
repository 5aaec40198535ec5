using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.UseCases.Maintenance;

/// <summary>
/// The catalog's backups against the repository's manifests. The repository is the truth, but a backup the catalog
/// lists whose manifest is gone was not forgotten by Lifeboat (forget and expire take it out of the catalog before they
/// delete the manifest): the manifest was deleted outside Lifeboat or lost, and the data only it referenced is
/// unprotected — verify reports it as damage and prune refuses to delete that data until someone decides.
/// A backup only the repository has is not damage (another catalog made it, or the catalog was rebuilt earlier):
/// `catalog rebuild` adds it.
/// </summary>
/// <param name="CatalogOnly">Backups the catalog lists and the repository has no manifest for.</param>
/// <param name="RepositoryOnly">Backups in the repository the catalog does not list.</param>
/// <param name="NotChecked">Why the catalog could not be compared (it could not be opened), else null.</param>
public sealed record CatalogConsistency(IReadOnlyList<string> CatalogOnly, IReadOnlyList<string> RepositoryOnly, string? NotChecked)
{
    /// <summary>What to do about backups the catalog lists without a manifest.</summary>
    public const string Remedy = "copy each `backups/<id>` object back from a replica of the repository (a secondary target holds it under the same name), or, if they were deleted on purpose, accept the loss with `lifeboat catalog rebuild` (the next prune then frees their data)";

    public static async Task<CatalogConsistency> CompareAsync(CatalogAccess catalog, Repository.Repository repository, CancellationToken cancellationToken)
    {
        HashSet<string> listed;
        try
        {
            listed = (await (await catalog.OpenAsync(cancellationToken)).BackupsAsync(null, cancellationToken)).Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            return new CatalogConsistency([], [], ex.Message);
        }

        var stored = (await repository.ListBackupIdsAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        return new CatalogConsistency(
            listed.Except(stored).Order(StringComparer.Ordinal).ToList(),
            stored.Except(listed).Order(StringComparer.Ordinal).ToList(),
            null);
    }

    /// <summary>The problem verify reports for a backup the catalog lists without a manifest.</summary>
    public static string MissingManifestProblem => "the catalog lists this backup but the repository has no manifest for it (deleted outside Lifeboat, or lost); prune keeps its data until this is resolved";

    /// <summary>Prune's refusal while the catalog lists backups without a manifest (exit 3, naming them).</summary>
    public DamageException RefusePrune() => new(
        $"prune refused: the catalog lists {CatalogOnly.Count} backup(s) whose manifest is missing from the repository ({string.Join(", ", CatalogOnly.Take(10))}{(CatalogOnly.Count > 10 ? ", …" : "")}); pruning now would delete the data they need",
        CatalogOnly.Select(ObjectNames.Backup).ToList(),
        CatalogOnly,
        Remedy);
}
