using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;

namespace Lifeboat.Repository.Maintenance;

/// <summary>Collects every chunk id that manifests need: their tree chunks and the data chunks their trees name.</summary>
public static class ReferenceCollector
{
    /// <summary>Throws <see cref="DamageException"/> when a tree cannot be read (then nothing may be deleted).</summary>
    public static async Task<HashSet<ChunkId>> CollectAsync(Repository repository, ChunkIndex index, IEnumerable<Manifest> manifests, CancellationToken cancellationToken)
    {
        var used = new HashSet<ChunkId>();
        using var reader = new ChunkReader(repository, index);
        foreach (var manifest in manifests)
        {
            foreach (var hex in manifest.Tree)
            {
                used.Add(ChunkId.Parse(hex));
            }

            await foreach (var entry in TreeReader.ReadAsync(reader, manifest, cancellationToken))
            {
                if (entry.Chunks is not null)
                {
                    used.UnionWith(entry.Chunks);
                }
            }
        }

        return used;
    }
}
