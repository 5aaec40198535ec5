using System.Runtime.InteropServices;
using Lifeboat.Core;
using Microsoft.Win32.SafeHandles;

namespace Lifeboat.Platform;

/// <summary>File system calls on raw paths (<see cref="RawPath"/>): directory listings by bytes, open, create, rename, special files.</summary>
public static partial class Unix
{
    private const int ORdOnly = 0;
    private const int OWrOnly = 1;
    private const int ORdWr = 2;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;
    private const int EEXIST = 17;

    // The one flag used here whose value differs between the Linux architectures .NET runs on.
    private static readonly int ONoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true)]
    private static unsafe partial IntPtr OpendirNative(byte* path);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    private static partial IntPtr ReaddirNative(IntPtr dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int ClosedirNative(IntPtr dir);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static unsafe partial int OpenNative(byte* path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static unsafe partial int MkdirNative(byte* path, int mode);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true)]
    private static unsafe partial int RmdirNative(byte* path);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static unsafe partial int UnlinkNative(byte* path);

    [LibraryImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static unsafe partial int RenameNative(byte* from, byte* to);

    [LibraryImport("libc", EntryPoint = "symlink", SetLastError = true)]
    private static unsafe partial int SymlinkNative(byte* target, byte* path);

    [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true)]
    private static unsafe partial nint ReadlinkNative(byte* path, byte* buffer, nint size);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true)]
    private static unsafe partial int ChmodNative(byte* path, uint mode);

    [LibraryImport("libc", EntryPoint = "mknod", SetLastError = true)]
    private static unsafe partial int MknodNative(byte* path, uint mode, ulong dev);

    /// <summary>
    /// The names in a directory (not <c>.</c> and <c>..</c>) as raw paths, in no particular order. Throws
    /// <see cref="UnauthorizedAccessException"/> when it cannot be read, <see cref="FileNotFoundException"/> when it is gone.
    /// </summary>
    public static unsafe List<string> ListDirectory(string path)
    {
        IntPtr dir;
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            dir = OpendirNative(p);
        }

        if (dir == IntPtr.Zero)
        {
            throw Error(Marshal.GetLastPInvokeError(), "list the directory", path, mapAccess: true);
        }

        try
        {
            var names = new List<string>();
            while (true)
            {
                var entry = ReaddirNative(dir);
                if (entry == IntPtr.Zero)
                {
                    // NULL is the end, or an error when errno is set (the call clears it first).
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != 0)
                    {
                        throw Error(errno, "list the directory", path, mapAccess: true);
                    }

                    return names;
                }

                // struct dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated), on every Linux ABI.
                var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)entry + 19);
                if (name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
                {
                    continue;
                }

                names.Add(RawPath.FromBytes(name));
            }
        }
        finally
        {
            _ = ClosedirNative(dir);
        }
    }

    /// <summary>
    /// Opens a file to read, not following a symlink and never waiting (a path replaced by a FIFO since it was listed does
    /// not hang the read; reading it then fails). ENOENT is <see cref="FileNotFoundException"/>, EACCES/EPERM
    /// <see cref="UnauthorizedAccessException"/>, as System.IO's open.
    /// </summary>
    public static SafeFileHandle OpenRead(string path) => Open(path, ORdOnly | ONoFollow | ONonBlock, 0, "open");

    /// <summary>Creates a new file (O_EXCL, mode 0600 until the restore sets its own) and opens it to write.</summary>
    public static SafeFileHandle CreateNew(string path) => Open(path, OWrOnly | OCreat | OExcl | ONoFollow, Convert.ToInt32("600", 8), "create");

    /// <summary>Opens an existing file to write (or read and write), not following a symlink.</summary>
    public static SafeFileHandle OpenWrite(string path, bool read) => Open(path, (read ? ORdWr : OWrOnly) | ONoFollow, 0, "open");

    private static unsafe SafeFileHandle Open(string path, int flags, int mode, string what)
    {
        int fd;
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            fd = OpenNative(p, flags | OCloExec, mode);
        }

        if (fd < 0)
        {
            throw Error(Marshal.GetLastPInvokeError(), what, path, mapAccess: true);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Creates a directory and the missing ones above it (mode 0777 less the umask, as System.IO does); an existing directory is fine.</summary>
    public static unsafe void CreateDirectory(string path)
    {
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        if (Lstat(path) is { Kind: FileKind.Directory })
        {
            return;
        }

        var parent = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(parent) && parent != path)
        {
            CreateDirectory(parent);
        }

        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            if (MkdirNative(p, Convert.ToInt32("777", 8)) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != EEXIST || Lstat(path) is not { Kind: FileKind.Directory })
                {
                    throw Error(errno, "create the directory", path, mapAccess: true);
                }
            }
        }
    }

    /// <summary>Removes a file, symlink or special file (not a directory).</summary>
    public static unsafe void Unlink(string path)
    {
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(UnlinkNative(p), "remove", path);
        }
    }

    /// <summary>Removes a path whatever it is: a directory with everything below it. A missing path is fine.</summary>
    public static unsafe void DeleteTree(string path)
    {
        var stat = Lstat(path);
        if (stat is null)
        {
            return;
        }

        if (stat.Value.Kind != FileKind.Directory)
        {
            Unlink(path);
            return;
        }

        foreach (var name in ListDirectory(path))
        {
            DeleteTree(Path.Combine(path, name));
        }

        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(RmdirNative(p), "remove the directory", path);
        }
    }

    /// <summary>rename(2): atomically replaces <paramref name="to"/> when it exists (and is not a non-empty directory).</summary>
    public static unsafe void Rename(string from, string to)
    {
        fixed (byte* a = RawPath.ToNullTerminated(from))
        fixed (byte* b = RawPath.ToNullTerminated(to))
        {
            Check(RenameNative(a, b), "rename " + RawPath.Display(from) + " to", to);
        }
    }

    /// <summary>Creates the symlink <paramref name="path"/> holding <paramref name="target"/> (both raw paths).</summary>
    public static unsafe void Symlink(string target, string path)
    {
        fixed (byte* t = RawPath.ToNullTerminated(target))
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(SymlinkNative(t, p), "create the symlink", path);
        }
    }

    /// <summary>The target of a symlink, as a raw path (its exact bytes).</summary>
    public static unsafe string ReadLink(string path)
    {
        var z = RawPath.ToNullTerminated(path);
        for (var size = 256; ; size *= 4)
        {
            var buffer = new byte[size];
            nint n;
            fixed (byte* p = z)
            fixed (byte* b = buffer)
            {
                n = ReadlinkNative(p, b, size);
            }

            if (n < 0)
            {
                throw Error(Marshal.GetLastPInvokeError(), "read the link", path, mapAccess: false);
            }

            if (n < size)
            {
                return RawPath.FromBytes(buffer.AsSpan(0, (int)n));
            }
        }
    }

    /// <summary>Sets the permission bits (st_mode &amp; 07777) of a path that is not a symlink.</summary>
    public static unsafe void Chmod(string path, int mode)
    {
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(ChmodNative(p, (uint)mode), "set the mode of", path);
        }
    }

    /// <summary>
    /// Creates a FIFO, character device or block device (mknod(2); devices need CAP_MKNOD, so as a rule root: EPERM
    /// otherwise, an <see cref="UnauthorizedAccessException"/>).
    /// </summary>
    public static unsafe void MakeNode(string path, FileKind kind, int mode, long major, long minor)
    {
        var type = kind switch
        {
            FileKind.Fifo => 0x1000u,
            FileKind.CharDevice => 0x2000u,
            FileKind.BlockDevice => 0x6000u,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "mknod makes FIFOs and devices only"),
        };

        // glibc's makedev: the 12 low bits of the major at 8..19, the 8 low bits of the minor at 0..7, the rest above.
        var ma = (ulong)major;
        var mi = (ulong)minor;
        var dev = kind == FileKind.Fifo ? 0 : ((ma & 0xfffff000UL) << 32) | ((ma & 0xfffUL) << 8) | ((mi & 0xffffff00UL) << 12) | (mi & 0xffUL);
        fixed (byte* p = RawPath.ToNullTerminated(path))
        {
            Check(MknodNative(p, type | (uint)(mode & 0xFFF), dev), kind == FileKind.Fifo ? "create the FIFO" : "create the device file", path, mapAccess: true);
        }
    }
}
