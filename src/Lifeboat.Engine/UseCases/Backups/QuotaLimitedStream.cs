namespace Lifeboat.Engine.UseCases.Backups;

/// <summary>
/// A read-only stream over an upload that throws the refusal <see cref="_exceeded"/> gives once more than
/// <see cref="_headroom"/> bytes have been read: the tenant's stored-bytes quota enforced while the body streams in,
/// before the backup's manifest is written (what was written of it is unreferenced data, removed by prune).
/// </summary>
internal sealed class QuotaLimitedStream(Stream inner, long headroom, Func<long, Task<Core.LifeboatException>> exceeded) : Stream
{
    private readonly Stream _inner = inner;
    private readonly long _headroom = headroom;
    private readonly Func<long, Task<Core.LifeboatException>> _exceeded = exceeded;
    private long _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        if (Count(n))
        {
            throw _exceeded(_read).GetAwaiter().GetResult();
        }

        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken);
        if (Count(n))
        {
            throw await _exceeded(_read);
        }

        return n;
    }

    private bool Count(int n)
    {
        _read += n;
        return _read > _headroom;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
