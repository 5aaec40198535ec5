using Lifeboat.Core;
using Lifeboat.Repository.Chunking;
using Lifeboat.Repository.Writing;

namespace Lifeboat.Repository.Trees;

/// <summary>
/// Serialises tree entries (in path order) and stores the resulting JSON Lines stream as content-defined tree chunks,
/// so that unchanged parts of a tree deduplicate against earlier backups. Not thread-safe.
/// </summary>
public sealed class TreeBuilder
{
    private readonly RepositoryWriter _writer;
    private readonly FastCdc _chunker;
    private readonly ByteBuffer _buffer = new();
    private readonly List<ChunkId> _ids = [];
    private string? _lastPath;

    public TreeBuilder(RepositoryWriter writer, FastCdc treeChunker)
    {
        _writer = writer;
        _chunker = treeChunker;
    }

    public long Entries { get; private set; }

    /// <summary>Appends an entry; entries must come in <see cref="TreeOrder"/>, each path once.</summary>
    public void Add(TreeEntry entry)
    {
        if (_lastPath is not null && TreeOrder.Instance.Compare(_lastPath, entry.Path) >= 0)
        {
            throw new InvalidOperationException($"tree entries out of order: '{entry.Path}' after '{_lastPath}'");
        }

        _lastPath = entry.Path;
        TreeSerializer.Write(entry, _buffer);
        Entries++;
        if (_buffer.Length >= _chunker.Max * 2)
        {
            Cut(final: false);
        }
    }

    /// <summary>Stores what is left and returns the tree's chunk ids.</summary>
    public List<ChunkId> Finish()
    {
        Cut(final: true);
        return _ids;
    }

    private void Cut(bool final)
    {
        var consumed = 0;
        while (consumed < _buffer.Length)
        {
            var rest = _buffer.Span[consumed..];
            var n = _chunker.Cut(rest, final);
            if (n < 0)
            {
                break;
            }

            _ids.Add(_writer.AddTreeChunk(rest[..n]));
            consumed += n;
        }

        _buffer.Consume(consumed);
    }
}
