using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Maintenance;

public sealed record RebuildIndexReport(int Packs, int DamagedPacks, IReadOnlyList<string> DamagedPackNames, int IndexObjectsReplaced, int IndexObjectsWritten);

/// <summary>
/// Recovers the index from the packs themselves (every pack carries its own header): the repair for a damaged or
/// lost index object. The caller holds an exclusive lock.
/// </summary>
public sealed class IndexRebuilder
{
    private readonly Repository _repo;

    public IndexRebuilder(Repository repository) => _repo = repository;

    public async Task<RebuildIndexReport> RebuildAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var packs = new List<PackDescription>();
        var damaged = new List<string>();
        var listing = await _repo.Target.ListAllAsync(ObjectNames.DataPrefix, cancellationToken);
        var done = 0;
        foreach (var item in listing)
        {
            var id = ObjectNames.PackIdOf(item.Name);
            if (id is null)
            {
                continue;
            }

            try
            {
                packs.Add(await PackScanner.ReadHeaderAsync(_repo, id.Value, item.Size, cancellationToken));
            }
            catch (FormatException ex)
            {
                damaged.Add($"{item.Name}: {ex.Message}");
            }

            progress?.Report($"read {++done}/{listing.Count} pack headers");
        }

        var old = new List<ChunkId>();
        foreach (var item in await _repo.Target.ListAllAsync(ObjectNames.IndexPrefix, cancellationToken))
        {
            if (ObjectNames.IndexIdOf(item.Name) is { } id)
            {
                old.Add(id);
            }
        }

        var (newId, _) = await _repo.SaveIndexAsync(old, packs, cancellationToken);
        foreach (var id in old.Where(i => i != newId))
        {
            await _repo.Target.DeleteAsync(ObjectNames.Index(id), cancellationToken);
        }

        _repo.InvalidateIndex();
        return new RebuildIndexReport(packs.Count, damaged.Count, damaged, old.Count, 1);
    }
}
