using System.Collections.Concurrent;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Maintenance;

public sealed record VerifyOptions
{
    /// <summary>Read every pack whole: hash, open, decompress and re-hash every chunk.</summary>
    public bool ReadData { get; init; }

    /// <summary>Check only this backup (and, with <see cref="ReadData"/>, only the packs it uses).</summary>
    public string? BackupId { get; init; }

    public int Parallelism { get; init; } = 2;
}

/// <summary>A damaged or missing object, and every backup whose restore it affects.</summary>
public sealed record DamageItem(string Object, string Problem, IReadOnlyList<string> AffectedBackups);

public sealed record VerifyReport
{
    public int Backups { get; init; }

    public int IndexObjects { get; init; }

    public int Packs { get; init; }

    public long Chunks { get; init; }

    public int PacksRead { get; init; }

    public long BytesRead { get; init; }

    public required List<DamageItem> Damage { get; init; }

    /// <summary>Findings that are not damage (unreferenced packs left by an interrupted backup, stale locks).</summary>
    public required List<string> Notes { get; init; }

    public bool IsHealthy => Damage.Count == 0;

    public IReadOnlyList<string> AffectedBackups => Damage.SelectMany(d => d.AffectedBackups).Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>Checks a repository (repository format, section 16).</summary>
public sealed class Verifier
{
    private readonly Repository _repo;

    public Verifier(Repository repository) => _repo = repository;

    public async Task<VerifyReport> VerifyAsync(VerifyOptions options, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var damage = new List<DamageItem>();
        var notes = new List<string>();

        progress?.Report("reading the key slots");
        foreach (var slot in await _repo.ListDamagedKeysAsync(cancellationToken))
        {
            damage.Add(new DamageItem(slot.Object, $"key slot {slot.SlotId} is damaged: {slot.Problem}", []));
        }

        progress?.Report("reading the index");
        var snapshot = await _repo.LoadIndexObjectsAsync(cancellationToken);
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

        progress?.Report("listing packs");
        var onTarget = new Dictionary<ChunkId, long>();
        foreach (var item in await _repo.Target.ListAllAsync(ObjectNames.DataPrefix, cancellationToken))
        {
            var id = ObjectNames.PackIdOf(item.Name);
            if (id is null)
            {
                notes.Add($"{item.Name} is not a pack name; it is ignored");
                continue;
            }

            onTarget[id.Value] = item.Size;
        }

        // Packs the index names: present, with the size the index implies.
        var packProblems = new Dictionary<int, string>();
        for (var p = 0; p < index.PackCount; p++)
        {
            var pack = index.Pack(p);
            if (!onTarget.TryGetValue(pack.PackId, out var size))
            {
                packProblems[p] = "the pack is missing";
            }
            else if (size != pack.Size)
            {
                packProblems[p] = $"the pack has {size} bytes, the index says {pack.Size}";
            }
        }

        var unindexed = onTarget.Keys.Where(id => !index.TryGetPack(id, out _)).ToList();
        if (unindexed.Count > 0)
        {
            notes.Add($"{unindexed.Count} pack(s) are not in the index (left by an interrupted backup, or listed only in a damaged index object); `lifeboat prune` removes unreferenced packs once the index is sound");
        }

        progress?.Report("reading manifests");
        List<Manifest> manifests;
        if (options.BackupId is not null)
        {
            manifests = [await _repo.LoadManifestAsync(options.BackupId, cancellationToken)];
        }
        else
        {
            var (all, damagedManifests) = await _repo.LoadAllManifestsAsync(cancellationToken);
            manifests = all;
            foreach (var (id, error) in damagedManifests)
            {
                damage.Add(new DamageItem(ObjectNames.Backup(id), error, [id]));
            }
        }

        // Walk every tree: which backups use which pack; chunks missing from the index.
        var packUsers = new Dictionary<int, HashSet<string>>();
        var missingByBackup = new Dictionary<string, long>();
        long chunkRefs = 0;
        using (var reader = new ChunkReader(_repo, index))
        {
            foreach (var manifest in manifests)
            {
                progress?.Report($"checking backup {manifest.Id}");
                void Use(ChunkId id)
                {
                    chunkRefs++;
                    if (index.TryGet(id, out var loc))
                    {
                        var pack = index.Frame(loc.Frame).Pack;
                        if (!packUsers.TryGetValue(pack, out var users))
                        {
                            packUsers[pack] = users = [];
                        }

                        users.Add(manifest.Id);
                    }
                    else
                    {
                        missingByBackup[manifest.Id] = missingByBackup.GetValueOrDefault(manifest.Id) + 1;
                    }
                }

                foreach (var hex in manifest.Tree)
                {
                    if (ChunkId.TryParse(hex, out var treeId))
                    {
                        Use(treeId);
                    }
                }

                try
                {
                    await foreach (var entry in TreeReader.ReadAsync(reader, manifest, cancellationToken))
                    {
                        if (entry.Chunks is not null)
                        {
                            foreach (var id in entry.Chunks)
                            {
                                Use(id);
                            }
                        }
                    }
                }
                catch (DamageException ex)
                {
                    foreach (var obj in ex.DamagedObjects.DefaultIfEmpty(ObjectNames.Backup(manifest.Id)))
                    {
                        damage.Add(new DamageItem(obj, ex.Message, [manifest.Id]));
                    }
                }
            }
        }

        // Read every pack in full.
        var packsRead = 0;
        long bytesRead = 0;
        if (options.ReadData)
        {
            var toRead = Enumerable.Range(0, index.PackCount)
                .Where(p => !packProblems.ContainsKey(p) && (options.BackupId is null || packUsers.ContainsKey(p)))
                .ToList();
            var results = new ConcurrentDictionary<int, string>();
            var done = 0;
            await Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism), CancellationToken = cancellationToken }, async (p, ct) =>
            {
                var description = descriptions[index.Pack(p).PackId];
                var problem = await PackScanner.VerifyAsync(_repo, description, ct);
                if (problem is not null)
                {
                    results[p] = problem;
                }

                Interlocked.Add(ref bytesRead, description.Size);
                var n = Interlocked.Increment(ref done);
                progress?.Report($"read {n}/{toRead.Count} packs");
            });
            packsRead = toRead.Count;
            foreach (var (p, problem) in results)
            {
                packProblems[p] = problem;
            }
        }

        foreach (var (p, problem) in packProblems.OrderBy(kv => kv.Key))
        {
            var users = packUsers.TryGetValue(p, out var u) ? u.Order(StringComparer.Ordinal).ToList() : [];
            damage.Add(new DamageItem(ObjectNames.Pack(index.Pack(p).PackId), problem, users));
        }

        var backupsMissingChunks = missingByBackup.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var (name, error) in snapshot.Damaged)
        {
            damage.Add(new DamageItem(name, error, backupsMissingChunks));
        }

        foreach (var (backup, count) in missingByBackup.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            damage.Add(new DamageItem(ObjectNames.Backup(backup), $"{count} chunk(s) it needs are not in the index", [backup]));
        }

        // Merge duplicate reports of the same object (a pack found both by the tree walk and by the read).
        var merged = damage
            .GroupBy(d => d.Object)
            .Select(g => new DamageItem(g.Key, string.Join("; ", g.Select(d => d.Problem).Distinct()), g.SelectMany(d => d.AffectedBackups).Distinct().Order(StringComparer.Ordinal).ToList()))
            .OrderBy(d => d.Object, StringComparer.Ordinal)
            .ToList();

        return new VerifyReport
        {
            Backups = manifests.Count,
            IndexObjects = snapshot.Objects.Count,
            Packs = index.PackCount,
            Chunks = chunkRefs,
            PacksRead = packsRead,
            BytesRead = bytesRead,
            Damage = merged,
            Notes = notes,
        };
    }
}
