using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Maintenance;

public sealed record RebuildReport(int Backups, int WalFiles, int DamagedManifests, IReadOnlyList<string> UnreferencedPacks, IReadOnlyList<(string BackupId, long MissingChunks)> ManifestsWithMissingChunks, TimeSpan Elapsed);

/// <summary>
/// Reconstructs the catalog's knowledge of backups and WAL from the repository alone (the repository is the truth),
/// idempotently, and reports orphans: packs no index or backup uses, manifests whose chunks are missing.
/// </summary>
public sealed class CatalogRebuilder
{
    private readonly Repo _repo;
    private readonly LifeboatCatalog _catalog;

    public CatalogRebuilder(Repo repository, LifeboatCatalog catalog)
    {
        _repo = repository;
        _catalog = catalog;
    }

    public async Task<RebuildReport> RebuildAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var started = _repo.Time.GetTimestamp();
        progress?.Report("reading manifests");
        var (manifests, damaged) = await _repo.LoadAllManifestsAsync(cancellationToken);
        var index = await _repo.LoadIndexAsync(cancellationToken);

        // Which chunks each backup needs; identical trees (unchanged sources) are walked once.
        progress?.Report("checking that every backup's chunks are indexed");
        var usedPacks = new HashSet<int>();
        var missingByTree = new Dictionary<string, long>(StringComparer.Ordinal);
        var missing = new List<(string, long)>();
        using (var reader = new ChunkReader(_repo, index))
        {
            foreach (var manifest in manifests)
            {
                var treeKey = string.Join(',', manifest.Tree);
                if (!missingByTree.TryGetValue(treeKey, out var count))
                {
                    count = 0;
                    void Use(ChunkId id)
                    {
                        if (index.TryGet(id, out var location))
                        {
                            usedPacks.Add(index.Frame(location.Frame).Pack);
                        }
                        else
                        {
                            count++;
                        }
                    }

                    foreach (var hex in manifest.Tree)
                    {
                        Use(ChunkId.Parse(hex));
                    }

                    try
                    {
                        await foreach (var entry in TreeReader.ReadAsync(reader, manifest, cancellationToken))
                        {
                            foreach (var id in entry.Chunks ?? [])
                            {
                                Use(id);
                            }
                        }
                    }
                    catch (DamageException)
                    {
                        count = Math.Max(count, 1);
                    }

                    missingByTree[treeKey] = count;
                }

                if (count > 0)
                {
                    missing.Add((manifest.Id, count));
                }
            }
        }

        var records = manifests.Select(m => ToRecord(m, missing.Any(x => x.Item1 == m.Id))).ToList();
        await _catalog.ReplaceBackupsAsync(records, cancellationToken);

        // WAL of every cluster source found in the repository.
        progress?.Report("reading the WAL archive");
        var walFiles = 0;
        foreach (var group in manifests.Select(m => (m.Source, Info: ClusterBackupInfo.FromDetails(m.Details))).Where(x => x.Info is not null).GroupBy(x => x.Source))
        {
            var wal = new List<WalRecord>();
            foreach (var sysid in group.Select(x => x.Info!.SystemId).Distinct())
            {
                var archive = new WalArchive(_repo, group.Key, sysid, group.First(x => x.Info!.SystemId == sysid).Info!.WalSegmentSize);
                foreach (var w in await archive.ListAsync(cancellationToken))
                {
                    wal.Add(new WalRecord(group.Key, sysid.ToString(CultureInfo.InvariantCulture), w.Wal.Name, w.Wal.Timeline, (long)w.Wal.SegmentNumber, w.StoredSize, w.Archived));
                }
            }

            await _catalog.ReplaceWalAsync(group.Key, wal, cancellationToken);
            walFiles += wal.Count;
        }

        // Packs no backup needs: not indexed at all, or indexed but unused.
        progress?.Report("finding unreferenced packs");
        var unreferenced = new List<string>();
        foreach (var item in await _repo.Target.ListAllAsync(ObjectNames.DataPrefix, cancellationToken))
        {
            var id = ObjectNames.PackIdOf(item.Name);
            if (id is null)
            {
                continue;
            }

            if (!index.TryGetPack(id.Value, out _))
            {
                unreferenced.Add(item.Name);
            }
        }

        for (var p = 0; p < index.PackCount; p++)
        {
            if (!usedPacks.Contains(p))
            {
                unreferenced.Add(ObjectNames.Pack(index.Pack(p).PackId));
            }
        }

        unreferenced.Sort(StringComparer.Ordinal);
        return new RebuildReport(manifests.Count, walFiles, damaged.Count, unreferenced, missing, _repo.Time.GetElapsedTime(started));
    }

    public static BackupRecord ToRecord(Manifest m, bool damaged = false)
    {
        var cluster = ClusterBackupInfo.FromDetails(m.Details);
        return new BackupRecord
        {
            Id = m.Id,
            Source = m.Source,
            Kind = m.Kind,
            Type = m.Type,
            Started = m.Started,
            Finished = m.Finished,
            Bytes = m.Stats.Bytes,
            StoredBytes = m.Stats.StoredBytes,
            Files = m.Stats.Files,
            Parent = m.Parent,
            SystemIdentifier = cluster?.SystemIdentifier,
            Timeline = cluster?.Timeline,
            StartLsn = cluster?.StartLsn,
            StopLsn = cluster?.StopLsn,
            StopTime = cluster?.StopTime,
            Damaged = damaged,
        };
    }
}
