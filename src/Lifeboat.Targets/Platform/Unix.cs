using System.Runtime.InteropServices;

namespace Lifeboat.Platform;

public enum FileKind
{
    Regular,
    Directory,
    Symlink,
    Other,
}

/// <summary>What lstat(2) says about a path (through statx(2), whose layout is the same on every Linux architecture).</summary>
public readonly record struct FileStat(FileKind Kind, int Mode, long Uid, long Gid, long Size, long MTimeNs, long CTimeNs, long Inode, long Links, long Dev);

/// <summary>Linux system calls .NET does not expose: statx, lchown, utimensat, geteuid.</summary>
public static partial class Unix
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxBasicStats = 0x7ff;
    private const int ENOENT = 2;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int StatxNative(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LchownNative(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int UtimensatNative(int dirfd, string path, long* times, int flags);

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LinkNative(string existing, string newPath);

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
        if (StatxNative(dirfd, path, flags, StatxBasicStats, b) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ENOENT)
            {
                return null;
            }

            throw new IOException($"cannot read the metadata of {display}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        var mode = *(ushort*)(b + 28);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            _ => FileKind.Other,
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
            ((long)devMajor << 32) | devMinor);
    }

    /// <summary>Sets the owner of a path (not following symlinks).</summary>
    public static void Lchown(string path, long uid, long gid)
    {
        if (LchownNative(path, (uint)uid, (uint)gid) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot set the owner of {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>Creates a hard link <paramref name="newPath"/> to <paramref name="existing"/>.</summary>
    public static void Link(string existing, string newPath)
    {
        if (LinkNative(existing, newPath) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot link {newPath} to {existing}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }

    /// <summary>Sets access and modification times to <paramref name="mtimeNs"/> (not following symlinks).</summary>
    public static unsafe void SetTimes(string path, long mtimeNs)
    {
        long* times = stackalloc long[4];
        times[0] = times[2] = mtimeNs / 1_000_000_000L;
        times[1] = times[3] = mtimeNs % 1_000_000_000L;
        if (UtimensatNative(AtFdCwd, path, times, AtSymlinkNoFollow) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"cannot set the times of {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }
    }
}
