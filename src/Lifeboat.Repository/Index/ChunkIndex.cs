using System.Runtime.InteropServices;
using Lifeboat.Core;
using Lifeboat.Repository.Format;

namespace Lifeboat.Repository.Index;

/// <summary>Where a pack is, and which frames it holds.</summary>
public readonly record struct PackRecord(ChunkId PackId, PackType Type, long Size, int FirstFrame, int FrameCount, int SealedHeaderLength);

/// <summary>Where a frame is: its pack, its offset in the pack, its sealed and plaintext body lengths.</summary>
public readonly record struct FrameRecord(int Pack, long Offset, int StoredLength, int RawLength);

/// <summary>Where a chunk is: its frame, its offset in the frame's body and its length.</summary>
public readonly record struct ChunkLocation(int Frame, int Offset, int Length);

/// <summary>
/// The in-memory index: chunk id → pack, frame, offset, length (repository format, section 8).
/// Built once, then read concurrently; <see cref="AddPack"/> must not run concurrently with readers.
/// </summary>
public sealed class ChunkIndex
{
    private readonly List<PackRecord> _packs = [];
    private readonly List<FrameRecord> _frames = [];
    private readonly Dictionary<ChunkId, ChunkLocation> _chunks = [];
    private readonly Dictionary<ChunkId, int> _packById = [];

    public int PackCount => _packs.Count;

    public int ChunkCount => _chunks.Count;

    public IReadOnlyList<PackRecord> Packs => _packs;

    /// <summary>Index objects this index was loaded from (not superseded).</summary>
    public List<ChunkId> IndexObjects { get; } = [];

    /// <summary>Index objects that could not be read; their packs may be missing from this index.</summary>
    public List<(string Name, string Error)> DamagedIndexObjects { get; } = [];

    /// <summary>Adds a pack's chunks. A chunk already listed (in another pack) keeps its first location. Returns false if the pack was known.</summary>
    public bool AddPack(PackDescription pack)
    {
        if (_packById.ContainsKey(pack.PackId))
        {
            return false;
        }

        var packIndex = _packs.Count;
        _packById[pack.PackId] = packIndex;
        _packs.Add(new PackRecord(pack.PackId, pack.Type, pack.Size, _frames.Count, pack.Frames.Count, pack.SealedHeaderLength));
        long offset = 0;
        foreach (var frame in pack.Frames)
        {
            var frameIndex = _frames.Count;
            var inFrame = 0;
            foreach (var chunk in frame.Chunks)
            {
                ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_chunks, chunk.Id, out var exists);
                if (!exists)
                {
                    slot = new ChunkLocation(frameIndex, inFrame, chunk.Length);
                }

                inFrame += chunk.Length;
            }

            _frames.Add(new FrameRecord(packIndex, offset, frame.StoredLength, inFrame));
            offset += frame.StoredLength;
        }

        return true;
    }

    public bool Contains(ChunkId id) => _chunks.ContainsKey(id);

    public bool TryGet(ChunkId id, out ChunkLocation location) => _chunks.TryGetValue(id, out location);

    public FrameRecord Frame(int frame) => _frames[frame];

    public PackRecord Pack(int pack) => _packs[pack];

    public bool TryGetPack(ChunkId packId, out PackRecord pack)
    {
        if (_packById.TryGetValue(packId, out var i))
        {
            pack = _packs[i];
            return true;
        }

        pack = default;
        return false;
    }

    /// <summary>The pack that holds a chunk, or null.</summary>
    public PackRecord? PackOf(ChunkId id) => TryGet(id, out var loc) ? _packs[_frames[loc.Frame].Pack] : null;

    /// <summary>Every chunk with its location, for verify and prune.</summary>
    public IEnumerable<KeyValuePair<ChunkId, ChunkLocation>> Chunks => _chunks;
}
