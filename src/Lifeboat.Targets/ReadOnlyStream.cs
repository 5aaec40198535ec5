namespace Lifeboat.Targets;

/// <summary>
/// A forward-only, read-only stream: what every stream Lifeboat hands to a target or reads from one is. Subclasses
/// give Length, Position and the reads; writing and seeking are refused here once.
/// </summary>
public abstract class ReadOnlyStream : Stream
{
    public sealed override bool CanRead => true;

    public sealed override bool CanSeek => false;

    public sealed override bool CanWrite => false;

    public sealed override void Flush()
    {
    }

    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public sealed override void SetLength(long value) => throw new NotSupportedException();

    public sealed override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
