namespace Lifeboat.Targets.Tests;

/// <summary>
/// Content that hands out its first bytes and then blocks until cancelled, like a slow producer: an upload in progress
/// that a test can cancel at a known point.
/// </summary>
internal sealed class BlockingSource : ObjectSource
{
    private readonly byte[] _firstBytes;
    private readonly long _length;
    private readonly CancellationToken _cancel;
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="firstBytes">What the target can read before the source blocks.</param>
    /// <param name="length">The length announced to the target (an object store may send it as Content-Length).</param>
    /// <param name="cancel">Ends the block (besides the token the target passes to ReadAsync).</param>
    public BlockingSource(byte[] firstBytes, long length, CancellationToken cancel)
    {
        _firstBytes = firstBytes;
        _length = length;
        _cancel = cancel;
    }

    public override long Length => _length;

    /// <summary>Completes when the target has read every byte before the block point and asks for more.</summary>
    public Task Blocked => _blocked.Task;

    public override Stream OpenRead() => new BlockingStream(this);

    private sealed class BlockingStream(BlockingSource source) : ReadOnlyStream
    {
        private int _position;

        public override long Length => source.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (TryCopy(buffer, out var n))
            {
                return n;
            }

            source._blocked.TrySetResult();
            source._cancel.WaitHandle.WaitOne();
            throw new OperationCanceledException(source._cancel);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (TryCopy(buffer.Span, out var n))
            {
                return n;
            }

            source._blocked.TrySetResult();
            // Either token ends the wait: the target's (it passes on the operation's token) or the test's.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, source._cancel);
            var never = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await never.Task.WaitAsync(either.Token);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private bool TryCopy(Span<byte> buffer, out int n)
        {
            n = Math.Min(buffer.Length, source._firstBytes.Length - _position);
            if (n <= 0)
            {
                return false;
            }

            source._firstBytes.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return true;
        }
    }
}

/// <summary>
/// Content whose first read fails part way with a transient error (a connection that drops mid-upload) and whose
/// later reads succeed. Counts how often it was opened.
/// </summary>
internal sealed class FailsOnceSource(byte[] bytes, int failAfter) : ObjectSource
{
    private int _opens;

    public int Opens => Volatile.Read(ref _opens);

    public override long Length => bytes.Length;

    public override Stream OpenRead()
    {
        var stream = new ReadOnlyMemoryStream(bytes);
        return Interlocked.Increment(ref _opens) == 1 ? new FailingStream(stream, failAfter) : stream;
    }

    private sealed class FailingStream(Stream inner, int failAfter) : ReadOnlyStream
    {
        private long _read;

        public override long Length => inner.Length;

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_read >= failAfter)
            {
                throw new TargetException(TargetErrorKind.Unavailable, "the connection was reset (injected)");
            }

            var n = inner.Read(buffer[..(int)Math.Min(buffer.Length, failAfter - _read)]);
            _read += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
