using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Writing;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Repository.Maintenance;

public sealed record PruneOptions
{
    /// <summary>Repack a pack when more than this share of its bytes is unused (repository format, section 15).</summary>
    public double RepackThreshold { get; init; } = 0.2;

    public bool DryRun { get; init; }

    /// <summary>At most this many chunks per new index object.</summary>
    public int ChunksPerIndexObject { get; init; } = 1_000_000;
}

public sealed record PruneReport
{
    public int Backups { get; init; }

    public int PacksBefore { get; init; }

    public int PacksDeleted { get; init; }

    public int PacksRepacked { get; init; }

    public int UnreferencedPacksDeleted { get; init; }

    public long ChunksRemoved { get; init; }

    public long BytesBefore { get; init; }

    public long BytesFreed { get; init; }

    public long BytesRewritten { get; init; }

    public int IndexObjectsBefore { get; init; }

    public int IndexObjectsAfter { get; init; }

    public bool DryRun { get; init; }
}

/// <summary>
/// Removes what no backup needs (repository format, section 15). The caller holds an exclusive lock.
/// Refuses to delete anything while an index object or a manifest is damaged: then the set of needed chunks is unknown.
/// </summary>
public sealed class Pruner
{
    private readonly Repository _repo;

    public Pruner(Repository repository) => _repo = repository;

    public async Task<PruneReport> PruneAsync(PruneOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        progress?.Report("reading the index");
        var snapshot = await _repo.LoadIndexObjectsAsync(cancellationToken);
        if (snapshot.Damaged.Count > 0)
        {
            throw new DamageException(
                $"prune refuses to run: {snapshot.Damaged.Count} index object(s) are damaged ({string.Join(", ", snapshot.Damaged.Select(d => d.Name))})",
                snapshot.Damaged.Select(d => d.Name).ToList(),
                [],
                "run `lifeboat repo rebuild-index` first, then prune");
        }

        var index = new ChunkIndex();
        var descriptions = new Dictionary<ChunkId, PackDescription>();
        foreach (var obj in snapshot.Objects)
        {
            foreach (var pack in obj.Packs)
            {
                index.AddPack(pack);
                descriptions.TryAdd(pack.PackId, pack);
            }
        }

        progress?.Report("reading manifests");
        var (manifests, damagedManifests) = await _repo.LoadAllManifestsAsync(cancellationToken);
        if (damagedManifests.Count > 0)
        {
            throw new DamageException(
                $"prune refuses to run: {damagedManifests.Count} manifest(s) are damaged ({string.Join(", ", damagedManifests.Select(d => d.Id))})",
                damagedManifests.Select(d => ObjectNames.Backup(d.Id)).ToList(),
                damagedManifests.Select(d => d.Id).ToList(),
                "remove the damaged backups with `lifeboat forget ID` or restore their manifests from a replica, then prune");
        }

        progress?.Report("finding the chunks backups need");
        var used = await ReferenceCollector.CollectAsync(_repo, index, manifests, cancellationToken);
        var missing = used.Count(id => !index.Contains(id));
        if (missing > 0)
        {
            throw new DamageException($"prune refuses to run: {missing} chunk(s) that backups need are not in the index", ["index"], [], "run `lifeboat verify` to see which backups are affected, and `lifeboat repo rebuild-index`");
        }

        // Classify packs. A chunk stored in two packs is live only where the index points.
        var keep = new List<PackDescription>();
        var delete = new List<PackDescription>();
        var repack = new List<PackDescription>();
        long bytesBefore = 0;
        long chunksRemoved = 0;
        foreach (var description in descriptions.Values)
        {
            bytesBefore += description.Size;
            long liveStored = 0;
            long totalStored = 0;
            var liveChunks = 0;
            var chunks = 0;
            foreach (var frame in description.Frames)
            {
                var raw = frame.RawLength;
                foreach (var chunk in frame.Chunks)
                {
                    chunks++;
                    var share = raw == 0 ? 0 : (long)((double)frame.StoredLength * chunk.Length / raw);
                    totalStored += share;
                    if (IsLiveHere(index, used, chunk.Id, description.PackId))
                    {
                        liveChunks++;
                        liveStored += share;
                    }
                }
            }

            chunksRemoved += chunks - liveChunks;
            if (liveChunks == 0)
            {
                delete.Add(description);
            }
            else if (liveChunks < chunks && totalStored > 0 && 1.0 - ((double)liveStored / totalStored) > options.RepackThreshold)
            {
                repack.Add(description);
            }
            else
            {
                keep.Add(description);
            }
        }

        var unreferenced = new List<ObjectInfo>();
        foreach (var item in await _repo.Target.ListAllAsync(ObjectNames.DataPrefix, cancellationToken))
        {
            var id = ObjectNames.PackIdOf(item.Name);
            if (id is not null && !descriptions.ContainsKey(id.Value))
            {
                unreferenced.Add(item);
            }
        }

        var report = new PruneReport
        {
            Backups = manifests.Count,
            PacksBefore = descriptions.Count,
            PacksDeleted = delete.Count,
            PacksRepacked = repack.Count,
            UnreferencedPacksDeleted = unreferenced.Count,
            ChunksRemoved = chunksRemoved,
            BytesBefore = bytesBefore,
            BytesFreed = delete.Sum(d => d.Size) + repack.Sum(d => d.Size) + unreferenced.Sum(u => u.Size),
            BytesRewritten = 0,
            IndexObjectsBefore = snapshot.Objects.Count,
            IndexObjectsAfter = snapshot.Objects.Count,
            DryRun = options.DryRun,
        };
        if (options.DryRun)
        {
            return report;
        }

        // 1. Copy the live chunks of packs to repack into new packs.
        var newPacks = new List<PackDescription>();
        var writerIndexObjects = new List<ChunkId>();
        long rewritten = 0;
        if (repack.Count > 0)
        {
            progress?.Report($"repacking {repack.Count} pack(s)");
            var keptIndex = new ChunkIndex();
            foreach (var k in keep)
            {
                keptIndex.AddPack(k);
            }

            var writer = new RepositoryWriter(_repo, keptIndex, new WriterOptions { Workers = 1, PacksPerIndexObject = int.MaxValue }, cancellationToken);
            await using (writer)
            {
                using var reader = new ChunkReader(_repo, index, cachedFrames: 4);
                var list = writer.BeginList();
                foreach (var description in repack)
                {
                    foreach (var frame in description.Frames)
                    {
                        foreach (var chunk in frame.Chunks)
                        {
                            if (!IsLiveHere(index, used, chunk.Id, description.PackId))
                            {
                                continue;
                            }

                            var data = await reader.ReadAsync(chunk.Id, cancellationToken);
                            if (description.Type == PackType.Tree)
                            {
                                writer.AddTreeChunk(data.Span);
                            }
                            else
                            {
                                await writer.SubmitAsync(list, data.ToArray(), data.Length, 0, pooled: false, cancellationToken);
                            }
                        }
                    }
                }

                await list.CompleteAsync();
                var result = await writer.CompleteAsync(cancellationToken);
                rewritten = result.StoredBytes;
                writerIndexObjects.AddRange(result.IndexObjects);
            }

            var afterRepack = await _repo.LoadIndexObjectsAsync(cancellationToken);
            foreach (var obj in afterRepack.Objects.Where(o => writerIndexObjects.Contains(o.Id)))
            {
                newPacks.AddRange(obj.Packs);
            }
        }

        // 2. One consolidated index for every remaining pack; the last object supersedes all old ones.
        progress?.Report("writing the index");
        var remaining = keep.Concat(newPacks).ToList();
        var superseded = snapshot.Objects.Select(o => o.Id).Concat(snapshot.Superseded).Concat(writerIndexObjects).Distinct().ToList();
        var groups = new List<List<PackDescription>>();
        var current = new List<PackDescription>();
        long chunkCount = 0;
        foreach (var pack in remaining)
        {
            if (current.Count > 0 && chunkCount + pack.ChunkCount > options.ChunksPerIndexObject)
            {
                groups.Add(current);
                current = [];
                chunkCount = 0;
            }

            current.Add(pack);
            chunkCount += pack.ChunkCount;
        }

        groups.Add(current);
        var written = new List<ChunkId>();
        for (var g = 0; g < groups.Count; g++)
        {
            var isLast = g == groups.Count - 1;
            var (id, _) = await _repo.SaveIndexAsync(isLast ? superseded : [], groups[g], cancellationToken);
            written.Add(id);
        }

        // 3. Delete the old index objects, then the packs no longer listed.
        progress?.Report("deleting unused packs");
        foreach (var old in superseded.Where(id => !written.Contains(id)))
        {
            await _repo.Target.DeleteAsync(ObjectNames.Index(old), cancellationToken);
        }

        foreach (var pack in delete.Concat(repack))
        {
            await _repo.Target.DeleteAsync(pack.ObjectName, cancellationToken);
        }

        foreach (var item in unreferenced)
        {
            await _repo.Target.DeleteAsync(item.Name, cancellationToken);
        }

        if (_repo.Target.Innermost() is LocalTarget local)
        {
            local.RemoveStaleTempFiles(_repo.Time.GetUtcNow().AddHours(-1));
        }

        _repo.InvalidateIndex();
        return report with
        {
            BytesRewritten = rewritten,
            BytesFreed = report.BytesFreed - rewritten,
            IndexObjectsAfter = written.Count,
        };
    }

    private static bool IsLiveHere(ChunkIndex index, HashSet<ChunkId> used, ChunkId chunk, ChunkId packId)
        => used.Contains(chunk) && index.PackOf(chunk)?.PackId == packId;
}
