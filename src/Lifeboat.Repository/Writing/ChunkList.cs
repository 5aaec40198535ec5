using Lifeboat.Core;

namespace Lifeboat.Repository.Writing;

/// <summary>
/// The ordered chunk ids of one file or stream, filled in by the writer's workers as they hash the chunks.
/// The producer reserves positions in order; <see cref="CompleteAsync"/> returns the ids once every chunk is stored.
/// </summary>
public sealed class ChunkList
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<ChunkId[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ChunkId[] _ids = new ChunkId[8];
    private int _reserved;
    private int _outstanding;
    private bool _closed;

    internal event Action<ChunkList>? Finished;

    /// <summary>Chunks reserved so far.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _reserved;
            }
        }
    }

    internal int Reserve(int count)
    {
        lock (_gate)
        {
            if (_closed)
            {
                throw new InvalidOperationException("the chunk list is complete");
            }

            var first = _reserved;
            _reserved += count;
            if (_reserved > _ids.Length)
            {
                Array.Resize(ref _ids, Math.Max(_reserved, _ids.Length * 2));
            }

            _outstanding += count;
            return first;
        }
    }

    internal void Set(int first, ReadOnlySpan<ChunkId> ids)
    {
        lock (_gate)
        {
            ids.CopyTo(_ids.AsSpan(first));
            _outstanding -= ids.Length;
            TryFinish();
        }
    }

    internal void Fail(Exception error) => _done.TrySetException(error);

    /// <summary>Closes the list (no more chunks) and waits until every chunk is stored.</summary>
    public Task<ChunkId[]> CompleteAsync()
    {
        lock (_gate)
        {
            _closed = true;
            TryFinish();
        }

        return _done.Task;
    }

    private void TryFinish()
    {
        if (_closed && _outstanding == 0 && !_done.Task.IsCompleted)
        {
            _done.TrySetResult(_ids.AsSpan(0, _reserved).ToArray());
            Finished?.Invoke(this);
        }
    }
}
