using System.Buffers;
using Lifeboat.Repository.Chunking;

namespace Lifeboat.Repository.Writing;

/// <summary>Streams into content-defined chunks: the loop every stream-reading source (files, dumps) shares.</summary>
public sealed partial class RepositoryWriter
{
    /// <summary>The size of the buffer <see cref="SubmitStreamAsync"/> cuts chunks in: two maximum-size data chunks.</summary>
    public int StreamBufferSize => _repo.DataChunker.Max * 2;

    /// <summary>
    /// Cuts a stream into content-defined data chunks (the repository's chunker) and queues each one on
    /// <paramref name="list"/> in order; returns the bytes read. <paramref name="buffer"/> (at least
    /// <see cref="StreamBufferSize"/> bytes) is the chunker's window: the caller's, free again when this returns. Each
    /// chunk is copied once, into a buffer rented from <see cref="ArrayPool{T}.Shared"/> that the writer returns once
    /// it is stored. Does not complete the list; a read error propagates, the chunks queued before it are still stored.
    /// </summary>
    public async Task<long> SubmitStreamAsync(ChunkList list, Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var chunker = new StreamChunker(_repo.DataChunker, stream, buffer);
        while (true)
        {
            var chunk = await chunker.NextAsync(cancellationToken);
            if (chunk.IsEmpty)
            {
                return chunker.BytesRead;
            }

            var copy = ArrayPool<byte>.Shared.Rent(chunk.Length);
            chunk.Span.CopyTo(copy);
            await SubmitAsync(list, copy, chunk.Length, 0, pooled: true, cancellationToken);
        }
    }
}
