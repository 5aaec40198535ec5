using System.Runtime.InteropServices;
using Lifeboat.Core;

namespace Lifeboat.Platform;

public enum FileKind
{
    Regular,
    Directory,
    Symlink,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
}

/// <summary>What lstat(2) says about a path (through statx(2), whose layout is the same on every Linux architecture).</summary>
/// <param name="RdevMajor">For a device file: the device it stands for (st_rdev), major and minor number.</param>
public readonly record struct FileStat(FileKind Kind, int Mode, long Uid, long Gid, long Size, long MTimeNs, long CTimeNs, long Inode, long Links, long Dev, long RdevMajor = 0, long RdevMinor = 0);

/// <summary>
/// Linux system calls .NET does not expose (statx, lchown, utimensat, mknod, readdir by bytes…), and the calls on paths
/// that must take a <see cref="RawPath"/>: every path here is passed to the kernel as <see cref="RawPath.ToBytes"/>,
/// so names that are not UTF-8 work (System.IO would replace their bytes). Errors are <see cref="IOException"/>
/// naming the path (<see cref="RawPath.Display"/>) and the errno, as its HResult.
/// </summary>
public static partial class Unix
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENOENT = 2;
    private const int EPERM = 1;
    private const int EACCES = 13;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static unsafe partial int StatxNative(int dirfd, byte* path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static unsafe partial int LchownNative(byte* path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "utimensat", SetLastError = true)]
    private static unsafe partial int UtimensatNative(int dirfd, byte* path, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true)]
    private static unsafe partial int LinkNative(byte* existing, byte* newPath);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuidNative();

    public static bool IsRoot => OperatingSystem.IsLinux() && GetEuidNative() == 0;

    /// <summary>The effective user id of this process.</summary>
    public static long EffectiveUid => GetEuidNative();

    /// <summary>The name of a user id from /etc/passwd, or null (a user only a directory service knows).</summary>
    public static string? UserName(long uid)
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var f = line.Split(':');
                if (f.Length > 3 && long.TryParse(f[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id) && id == uid)
                {
                    return f[0];
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }

    /// <summary>lstat: the path itself, not what a symlink points to. Null when the path does not exist.</summary>
    public static FileStat? Lstat(string path) => Statx(AtFdCwd, path, AtSymlinkNoFollow, path);

    /// <summary>stat: what the path names, following symlinks. Null when it (or what a symlink points to) does not exist.</summary>
    public static FileStat? Stat(string path) => Statx(AtFdCwd, path, 0, path);

    /// <summary>fstat: the metadata of an open file (what was read, even when its path was renamed or removed since).</summary>
    public static FileStat Fstat(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath | AtSymlinkNoFollow, path)
                   ?? throw new IOException($"cannot read the metadata of {path}: it is gone", ENOENT);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static unsafe FileStat? Statx(int dirfd, string path, int flags, string display)
    {
        byte* b = stackalloc byte[256];
        int rc;
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            rc = StatxNative(dirfd, p, flags, StatxBasicStats, b);
        }

        if (rc != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                return null;
            }

            throw new IOException($"cannot read the metadata of {RawPath.Display(display)}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        var mode = *(ushort*)(b + 28);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            _ => FileKind.Socket,
        };
        static long Ns(byte* ts) => (*(long*)ts * 1_000_000_000L) + *(uint*)(ts + 8);
        var devMajor = *(uint*)(b + 136);
        var devMinor = *(uint*)(b + 140);
        return new FileStat(
            kind,
            mode & 0xFFF,
            *(uint*)(b + 20),
            *(uint*)(b + 24),
            (long)*(ulong*)(b + 40),
            Ns(b + 112),
            Ns(b + 96),
            (long)*(ulong*)(b + 32),
            *(uint*)(b + 16),
            ((long)devMajor << 32) | devMinor,
            *(uint*)(b + 128),
            *(uint*)(b + 132));
    }

    /// <summary>Sets the owner of a path (not following symlinks).</summary>
    public static unsafe void Lchown(string path, long uid, long gid)
    {
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(LchownNative(p, (uint)uid, (uint)gid), "set the owner of", path);
        }
    }

    /// <summary>Creates a hard link <paramref name="newPath"/> to <paramref name="existing"/>.</summary>
    public static unsafe void Link(string existing, string newPath)
    {
        fixed (byte* a = RawPath.ToNullTerminated(existing))
        fixed (byte* b = RawPath.ToNullTerminated(newPath))
        {
            if (LinkNative(a, b) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"cannot link {RawPath.Display(newPath)} to {RawPath.Display(existing)}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
    }

    /// <summary>Sets access and modification times to <paramref name="mtimeNs"/> (not following symlinks).</summary>
    public static unsafe void SetTimes(string path, long mtimeNs)
    {
        long* times = stackalloc long[4];
        times[0] = times[2] = mtimeNs / 1_000_000_000L;
        times[1] = times[3] = mtimeNs % 1_000_000_000L;
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(UtimensatNative(AtFdCwd, p, times, AtSymlinkNoFollow), "set the times of", path);
        }
    }

    private static void Check(int rc, string what, string path, bool mapAccess = false)
    {
        if (rc != 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), what, path, mapAccess);
        }
    }

    /// <summary>
    /// The error of a failed call on <paramref name="path"/>: <see cref="FileNotFoundException"/> for ENOENT; with
    /// <paramref name="mapAccess"/>, <see cref="UnauthorizedAccessException"/> for EACCES and EPERM (what System.IO
    /// throws when opening); else an <see cref="IOException"/> whose HResult is the errno.
    /// </summary>
    private static Exception Error(int errno, string what, string path, bool mapAccess)
    {
        var message = $"cannot {what} {RawPath.Display(path)}: {Marshal.GetPInvokeErrorMessage(errno)}";
        return errno switch
        {
            ENOENT => new FileNotFoundException(message, RawPath.Display(path)) { HResult = errno },
            EACCES or EPERM when mapAccess => new UnauthorizedAccessException(message) { HResult = errno },
            _ => new IOException(message, errno),
        };
    }
}
