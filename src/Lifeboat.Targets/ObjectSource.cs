namespace Lifeboat.Targets;

/// <summary>
/// Content to upload that can be read more than once, so that a retried upload sends identical bytes.
/// </summary>
public abstract class ObjectSource
{
    public abstract long Length { get; }

    /// <summary>A new stream positioned at the start. The caller disposes it.</summary>
    public abstract Stream OpenRead();

    public static ObjectSource FromBytes(ReadOnlyMemory<byte> bytes) => new BytesSource(bytes);

    public static ObjectSource FromFile(string path) => new FileSource(path);

    /// <summary>
    /// A local file a remote target uploads as <paramref name="storedAs"/> (its <c>SaveFileAsync</c>): a file that
    /// cannot be read is a permanent target error naming both.
    /// </summary>
    public static ObjectSource ForUpload(string path, string storedAs)
    {
        try
        {
            return new FileSource(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TargetException(TargetErrorKind.Other, $"cannot read {path} to store it as {storedAs}: {ex.Message}", isTransient: false, inner: ex);
        }
    }

    private sealed class BytesSource(ReadOnlyMemory<byte> bytes) : ObjectSource
    {
        public override long Length => bytes.Length;

        public override Stream OpenRead() => new ReadOnlyMemoryStream(bytes);
    }

    private sealed class FileSource(string path) : ObjectSource
    {
        private readonly long _length = new FileInfo(path).Length;

        public override long Length => _length;

        public override Stream OpenRead() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
    }
}

/// <summary>A read-only, seekable stream over a <see cref="ReadOnlyMemory{T}"/>, without copying it.</summary>
public sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => memory.Length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, memory.Length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, memory.Length - _position);
        memory.Span.Slice(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
