using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Repository.Trees;

namespace Lifeboat.Engine.Files;

/// <summary>
/// Walks the previous backup's tree alongside the new walk (both in <see cref="TreeOrder"/>). The tree is read ahead
/// by a background task in batches, so the walk waits neither for each tree chunk's read nor for a thread hop per
/// entry (an unchanged 100,000-file tree is mostly this comparison).
/// </summary>
internal sealed class ParentTree : IAsyncDisposable
{
    private const int BatchSize = 1024;

    private readonly Channel<List<TreeEntry>> _batches = Channel.CreateBounded<List<TreeEntry>>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;
    private List<TreeEntry>? _batch;
    private int _position;
    private TreeEntry? _current;
    private bool _done;

    public ParentTree(IAsyncEnumerable<TreeEntry> entries)
    {
        _reader = Task.Run(() => ReadAheadAsync(entries, _stop.Token));
    }

    private async Task ReadAheadAsync(IAsyncEnumerable<TreeEntry> entries, CancellationToken cancellationToken)
    {
        try
        {
            var batch = new List<TreeEntry>(BatchSize);
            await foreach (var entry in entries.WithCancellation(cancellationToken))
            {
                batch.Add(entry);
                if (batch.Count == BatchSize)
                {
                    await _batches.Writer.WriteAsync(batch, cancellationToken);
                    batch = new List<TreeEntry>(BatchSize);
                }
            }

            if (batch.Count > 0)
            {
                await _batches.Writer.WriteAsync(batch, cancellationToken);
            }

            _batches.Writer.TryComplete();
        }
        catch (Exception ex)
        {
            // A damaged parent tree surfaces in the walk that needs it.
            _batches.Writer.TryComplete(ex);
        }
    }

    public async ValueTask<TreeEntry?> FindAsync(string path)
    {
        while (!_done)
        {
            if (_current is not null)
            {
                var c = TreeOrder.Instance.Compare(_current.Path, path);
                if (c == 0)
                {
                    return _current;
                }

                if (c > 0)
                {
                    return null;
                }
            }

            _current = await NextAsync();
            if (_current is null)
            {
                _done = true;
                return null;
            }
        }

        return null;
    }

    private async ValueTask<TreeEntry?> NextAsync()
    {
        while (_batch is null || _position == _batch.Count)
        {
            if (!_batches.Reader.TryRead(out _batch))
            {
                if (!await _batches.Reader.WaitToReadAsync())
                {
                    // Completed: rethrows the reader's failure, if any.
                    await _batches.Reader.Completion;
                    return null;
                }

                continue;
            }

            _position = 0;
        }

        return _batch[_position++];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
