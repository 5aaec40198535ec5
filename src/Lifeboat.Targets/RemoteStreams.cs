using System.Buffers;

namespace Lifeboat.Targets;

/// <summary>
/// The body of a download handed to a load consumer. A failure while reading it (the connection dropped) becomes a
/// transient <see cref="TargetException"/> naming the object, and so does a body that ends before the length the server
/// announced: a consumer can never mistake a cut-off download for a short object. The consumer's own exceptions are not
/// touched, because they are not thrown here.
/// </summary>
internal sealed class DownloadStream(Stream inner, long expectedLength, string description) : ReadOnlyStream
{
    private long _read;

    public override long Length => expectedLength;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try
        {
            n = inner.Read(buffer);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not TargetException)
        {
            throw Dropped(ex);
        }

        return Count(n, buffer.Length);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n;
        try
        {
            n = await inner.ReadAsync(buffer, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not TargetException)
        {
            throw Dropped(ex);
        }

        return Count(n, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n, int asked)
    {
        _read += n;
        if (n == 0 && asked > 0 && _read < expectedLength)
        {
            throw new TargetException(TargetErrorKind.Unavailable, $"the download of {description} ended after {_read} of {expectedLength} bytes");
        }

        return n;
    }

    private TargetException Dropped(Exception ex)
        => new(TargetErrorKind.Unavailable, $"the download of {description} failed after {_read} bytes: {ex.Message}", inner: ex);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// The content of an upload as a remote target reads it. A failure to read it (a local file that vanished, a disk error)
/// becomes a permanent <see cref="TargetException"/> naming the object, so that it is never mistaken for a failure of the
/// target; the source's own <see cref="TargetException"/>s (transient ones included) and cancellations pass unchanged.
/// </summary>
internal sealed class ContentStream : ReadOnlyStream
{
    private readonly Stream _inner;
    private readonly string _description;

    private ContentStream(Stream inner, string description)
    {
        _inner = inner;
        _description = description;
    }

    public static ContentStream Open(ObjectSource content, string description)
    {
        try
        {
            return new ContentStream(content.OpenRead(), description);
        }
        catch (Exception ex) when (ex is not TargetException and not OperationCanceledException)
        {
            throw Unreadable(description, ex);
        }
    }

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return _inner.Read(buffer);
        }
        catch (Exception ex) when (ex is not TargetException and not OperationCanceledException)
        {
            throw Unreadable(_description, ex);
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _inner.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is not TargetException and not OperationCanceledException)
        {
            throw Unreadable(_description, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private static TargetException Unreadable(string description, Exception ex)
        => new(TargetErrorKind.Other, $"cannot read the content to store as {description}: {ex.Message}", isTransient: false, inner: ex);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// A buffer rented from the shared pool, filled from an upload's content: object stores send a part at a time from
/// memory so that a failed request can be resent and the SDK can sign the payload. Memory stays bounded by the part size.
/// </summary>
internal sealed class PartBuffer : IDisposable
{
    private byte[]? _array;

    public PartBuffer(int capacity)
    {
        _array = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 1));
    }

    public int Count { get; private set; }

    private byte[] Array => _array ?? throw new ObjectDisposedException(nameof(PartBuffer));

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes of <paramref name="source"/> into the buffer. Fewer only at the end of the
    /// content. Exceptions of the source pass through unchanged (a source may throw a transient <see cref="TargetException"/>).
    /// </summary>
    public async Task FillAsync(Stream source, int count, CancellationToken cancellationToken)
    {
        Count = 0;
        while (Count < count)
        {
            var n = await source.ReadAsync(Array.AsMemory(Count, count - Count), cancellationToken);
            if (n == 0)
            {
                break;
            }

            Count += n;
        }
    }

    /// <summary>A new read-only stream over the filled part (one per request: the SDK disposes it).</summary>
    public MemoryStream OpenRead() => new(Array, 0, Count, writable: false);

    public void Dispose()
    {
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = null;
        }
    }
}

internal static class UploadChecks
{
    /// <summary>The content ended before the length it announced: the source is broken, retrying will not help.</summary>
    public static TargetException ShortContent(string description, long read, long announced)
        => new(TargetErrorKind.Other, $"the content for {description} ended after {read} of {announced} bytes", isTransient: false);

    /// <summary>A range asked for lies (partly) beyond the end of the object: objects never change, so this is permanent.</summary>
    public static TargetException PastTheEnd(string description, long size, long offset, long length)
        => new(TargetErrorKind.Other, $"{description} is {size} bytes, cannot read {(length < 0 ? "from" : $"{length} bytes at")} offset {offset}", isTransient: false);

    /// <summary>
    /// Parses the total size from a Content-Range header (<c>bytes 0-99/1000</c>), or null when there is none.
    /// </summary>
    public static long? TotalFromContentRange(string? contentRange)
    {
        if (string.IsNullOrEmpty(contentRange))
        {
            return null;
        }

        var slash = contentRange.LastIndexOf('/');
        return slash >= 0 && long.TryParse(contentRange.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var total) ? total : null;
    }
}
