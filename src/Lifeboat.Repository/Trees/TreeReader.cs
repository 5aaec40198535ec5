using System.Runtime.CompilerServices;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Reading;

namespace Lifeboat.Repository.Trees;

/// <summary>Streams the entries of a backup's tree, reading its chunks in order (bounded memory).</summary>
public static class TreeReader
{
    public static async IAsyncEnumerable<TreeEntry> ReadAsync(ChunkReader reader, Manifest manifest, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new ByteBuffer();
        // Bytes at the start of the buffer already searched for a newline: an entry can span thousands of tree chunks
        // (a 1 GiB relation file lists 131,072 block ids), and searching it again from its start after every chunk
        // made reading such a tree quadratic.
        var searched = 0;
        foreach (var hex in manifest.Tree)
        {
            if (!ChunkId.TryParse(hex, out var id))
            {
                throw new DamageException($"manifest of backup {manifest.Id} names an invalid tree chunk id '{hex}'", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
            }

            ReadOnlyMemory<byte> chunk;
            try
            {
                chunk = await reader.ReadAsync(id, cancellationToken);
            }
            catch (DamageException ex)
            {
                throw new DamageException($"the tree of backup {manifest.Id} cannot be read: {ex.Message}", ex.DamagedObjects, [manifest.Id], ex.Hint, ex);
            }

            buffer.Append(chunk.Span);
            var consumed = 0;
            while (true)
            {
                var newline = buffer.Span[(consumed + searched)..].IndexOf((byte)'\n');
                if (newline < 0)
                {
                    searched = buffer.Length - consumed;
                    break;
                }

                newline += searched;
                searched = 0;
                yield return Parse(buffer.Span.Slice(consumed, newline), manifest);
                consumed += newline + 1;
            }

            buffer.Consume(consumed);
        }

        if (buffer.Length > 0)
        {
            throw new DamageException($"the tree of backup {manifest.Id} ends in the middle of an entry", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
        }
    }

    private static TreeEntry Parse(ReadOnlySpan<byte> line, Manifest manifest)
    {
        try
        {
            return TreeSerializer.Read(line);
        }
        catch (FormatException ex)
        {
            throw new DamageException($"the tree of backup {manifest.Id} has an invalid entry: {ex.Message}", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
        }
    }
}
