using System.Runtime.InteropServices;
using System.Text;

namespace Lifeboat.Platform;

/// <summary>What happened to a file in a watched directory.</summary>
public enum WatchEventKind
{
    /// <summary>A file was created.</summary>
    Created,

    /// <summary>A file opened for writing was closed.</summary>
    ClosedAfterWrite,

    /// <summary>Events were lost (the kernel's queue overflowed): rescan the directory.</summary>
    Overflow,
}

public readonly record struct WatchEvent(WatchEventKind Kind, string Name);

/// <summary>
/// inotify(7) on one directory: file creations and closes after writing. Used to read a file while another process
/// writes it and to know when the writer is done with it.
/// </summary>
public sealed partial class DirectoryWatch : IDisposable
{
    private const int InNonBlock = 0x800;
    private const int InCloExec = 0x80000;
    private const uint InCloseWrite = 0x8;
    private const uint InCreate = 0x100;
    private const uint InMovedTo = 0x80;
    private const uint InQOverflow = 0x4000;
    private const uint InIsDir = 0x40000000;
    private const short PollIn = 1;
    private const int EAGAIN = 11;
    private const int EINTR = 4;

    private readonly int _fd;
    private readonly byte[] _buffer = new byte[64 * 1024];

    public DirectoryWatch(string directory)
    {
        _fd = InotifyInit1(InNonBlock | InCloExec);
        if (_fd < 0)
        {
            throw new IOException($"inotify_init1 failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        if (InotifyAddWatch(_fd, directory, InCloseWrite | InCreate | InMovedTo) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Close(_fd);
            throw new IOException($"cannot watch {directory}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for events (on the calling thread) and returns them; empty on timeout.</summary>
    public unsafe List<WatchEvent> Wait(TimeSpan timeout)
    {
        var events = new List<WatchEvent>();
        var pfd = new PollFd { Fd = _fd, Events = PollIn };
        var ready = PollNative(&pfd, 1, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        if (ready <= 0)
        {
            return events;
        }

        while (true)
        {
            nint read;
            fixed (byte* b = _buffer)
            {
                read = ReadNative(_fd, b, _buffer.Length);
            }

            if (read < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }

                if (errno == EAGAIN)
                {
                    return events;
                }

                throw new IOException($"reading inotify events failed: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }

            var offset = 0;
            while (offset + 16 <= read)
            {
                var mask = BitConverter.ToUInt32(_buffer, offset + 4);
                var length = BitConverter.ToInt32(_buffer, offset + 12);
                var nameBytes = _buffer.AsSpan(offset + 16, length);
                var end = nameBytes.IndexOf((byte)0);
                var name = Encoding.UTF8.GetString(end < 0 ? nameBytes : nameBytes[..end]);
                offset += 16 + length;
                if ((mask & InQOverflow) != 0)
                {
                    events.Add(new WatchEvent(WatchEventKind.Overflow, ""));
                }
                else if ((mask & InIsDir) == 0)
                {
                    if ((mask & (InCreate | InMovedTo)) != 0)
                    {
                        events.Add(new WatchEvent(WatchEventKind.Created, name));
                    }

                    if ((mask & InCloseWrite) != 0)
                    {
                        events.Add(new WatchEvent(WatchEventKind.ClosedAfterWrite, name));
                    }
                }
            }
        }
    }

    public void Dispose() => _ = Close(_fd);

    /// <summary>
    /// Frees the disk blocks of [0, <paramref name="length"/>) of an open file, keeping its size (fallocate
    /// PUNCH_HOLE). False where the file system cannot (the data then stays until the file is deleted).
    /// </summary>
    public static bool PunchHole(SafeHandle file, long length)
    {
        const int FallocFlKeepSize = 1;
        const int FallocFlPunchHole = 2;
        return length > 0 && Fallocate(file, FallocFlKeepSize | FallocFlPunchHole, 0, length) == 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "inotify_init1", SetLastError = true)]
    private static partial int InotifyInit1(int flags);

    [LibraryImport("libc", EntryPoint = "inotify_add_watch", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int InotifyAddWatch(int fd, string path, uint mask);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int PollNative(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint ReadNative(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(SafeHandle fd, int mode, long offset, long length);
}
