using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Reading;

/// <summary>
/// Reads chunks by id: locates the frame, reads and opens it, and checks every chunk's HMAC against its id before
/// returning it (invariant I3). A failed check is retried once from the target, then raises a
/// <see cref="DamageException"/> naming the pack and the chunk. Not thread-safe: one per worker.
/// </summary>
public sealed class ChunkReader : IDisposable
{
    private readonly Repository _repo;
    private readonly ChunkIndex _index;
    private readonly ObjectCodec _codec;
    private readonly ChunkHasher _hasher;
    private readonly int _capacity;
    private readonly LinkedList<(int Frame, byte[] Body)> _cache = new();

    public ChunkReader(Repository repository, ChunkIndex index, int cachedFrames = 8)
    {
        _repo = repository;
        _index = index;
        _codec = repository.CreateCodec();
        _hasher = repository.CreateHasher();
        _capacity = Math.Max(1, cachedFrames);
    }

    /// <summary>Bytes read from the target (sealed frames).</summary>
    public long BytesFetched { get; private set; }

    /// <summary>A chunk's length from the index (0 when the chunk is not indexed).</summary>
    public int LengthOf(ChunkId id) => _index.TryGet(id, out var location) ? location.Length : 0;

    /// <summary>The plaintext of a chunk, verified. The memory stays valid (frames are never reused).</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(ChunkId id, CancellationToken cancellationToken)
    {
        if (!_index.TryGet(id, out var location))
        {
            var damagedIndexes = _index.DamagedIndexObjects.Select(d => d.Name).ToList();
            throw new DamageException(
                $"chunk {id} is not in the index of {_repo.DisplayName}" + (damagedIndexes.Count > 0 ? $" (damaged index objects: {string.Join(", ", damagedIndexes)})" : ""),
                damagedIndexes.Count > 0 ? damagedIndexes : ["chunk " + id],
                [],
                "run `lifeboat verify` to see every damaged object; `lifeboat repo rebuild-index` recovers an index from the packs");
        }

        var frame = _index.Frame(location.Frame);
        var pack = _index.Pack(frame.Pack);
        string? problem = null;
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var body = attempt == 0 ? Cached(location.Frame) : null;
            if (body is null)
            {
                (body, problem) = await LoadFrameAsync(pack, frame, cancellationToken);
                if (body is null)
                {
                    continue;
                }

                Remember(location.Frame, body);
            }

            if (location.Offset + location.Length > body.Length)
            {
                problem = "the frame is shorter than the index says";
                Forget(location.Frame);
                continue;
            }

            var chunk = body.AsMemory(location.Offset, location.Length);
            if (_hasher.Compute(chunk.Span) == id)
            {
                return chunk;
            }

            problem = "its content does not match its id";
            Forget(location.Frame);
        }

        var packName = ObjectNames.Pack(pack.PackId);
        throw new DamageException(
            $"chunk {id} in {packName} (frame at offset {frame.Offset}) is damaged: {problem}",
            [packName],
            [],
            "run `lifeboat verify --read-data` to find every damaged object and the backups it affects");
    }

    public void Dispose()
    {
        _codec.Dispose();
        _hasher.Dispose();
    }

    private async Task<(byte[]? Body, string? Problem)> LoadFrameAsync(PackRecord pack, FrameRecord frame, CancellationToken cancellationToken)
    {
        var name = ObjectNames.Pack(pack.PackId);
        byte[] sealedFrame;
        try
        {
            sealedFrame = await _repo.Target.ReadRangeAsync(name, frame.Offset, frame.StoredLength, cancellationToken);
        }
        catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
        {
            return (null, "the pack is missing");
        }
        catch (TargetException ex) when (!ex.IsTransient && ex.Kind == TargetErrorKind.Other)
        {
            return (null, ex.Message);
        }

        BytesFetched += sealedFrame.Length;
        var body = _codec.TryDecode(sealedFrame, SealKind.Frame, out var error, maxBodyLength: Math.Max(frame.RawLength, 1));
        if (body is null)
        {
            return (null, "the frame cannot be opened: " + error);
        }

        return body.Length == frame.RawLength ? (body, null) : (null, $"the frame holds {body.Length} bytes, the index says {frame.RawLength}");
    }

    private byte[]? Cached(int frame)
    {
        for (var node = _cache.First; node is not null; node = node.Next)
        {
            if (node.Value.Frame == frame)
            {
                _cache.Remove(node);
                _cache.AddFirst(node);
                return node.Value.Body;
            }
        }

        return null;
    }

    private void Remember(int frame, byte[] body)
    {
        Forget(frame);
        _cache.AddFirst((frame, body));
        while (_cache.Count > _capacity)
        {
            _cache.RemoveLast();
        }
    }

    private void Forget(int frame)
    {
        for (var node = _cache.First; node is not null; node = node.Next)
        {
            if (node.Value.Frame == frame)
            {
                _cache.Remove(node);
                return;
            }
        }
    }
}
