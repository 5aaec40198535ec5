using Lifeboat.Platform;
using Lifeboat.Targets;

namespace Lifeboat.Engine.Logical;

/// <summary>
/// Reads a file while another process is still writing it: at the current end it waits for more data until the writer
/// is known to be done (<see cref="MarkComplete"/>), then checks that everything written was read. The part already
/// read is released from the disk as it goes (hole punching), so a dump never needs much more temporary space than
/// what is in flight.
/// </summary>
internal sealed class GrowingFileStream : ReadOnlyStream
{
    private const long ReleaseStep = 32L * 1024 * 1024;
    private readonly FileStream _file;
    private readonly string _path;
    private volatile bool _complete;
    private long _position;
    private long _released;

    public GrowingFileStream(string path)
    {
        _path = path;
        _file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 0, FileOptions.None);
    }

    /// <summary>The writer has closed the file: its end is final.</summary>
    public void MarkComplete() => _complete = true;

    public bool ReleaseSpace { get; init; } = true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var delay = 1;
        while (true)
        {
            // Read the flag before reading: data written before the close is then certainly visible.
            var complete = _complete;
            var n = await _file.ReadAsync(buffer, cancellationToken);
            if (n > 0)
            {
                _position += n;
                if (ReleaseSpace && _position - _released >= ReleaseStep)
                {
                    var upTo = _position & ~0xFFFFL;
                    if (DirectoryWatch.PunchHole(_file.SafeFileHandle, upTo))
                    {
                        _released = upTo;
                    }
                    else
                    {
                        _released = long.MaxValue / 2; // not supported here: stop trying
                    }
                }

                return n;
            }

            if (complete)
            {
                var length = _file.Length;
                if (length != _position)
                {
                    throw new IOException($"{_path} changed after it was written ({length} bytes now, {_position} read)");
                }

                return 0;
            }

            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 20);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
