using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Lifeboat.Testing;

/// <summary>
/// Builds and reads directory trees by the bytes of their names, with its own system calls (System.IO re-encodes names
/// that are not UTF-8, so it can neither create nor see them): what a test compares a restore against must not share the
/// code under test.
/// </summary>
public static partial class ByteTree
{
    private const int OWrOnly = 1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int OCloExec = 0x80000;

    [LibraryImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static partial int MkdirNative(byte[] path, uint mode);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int OpenNative(byte[] path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "chmod", SetLastError = true)]
    private static partial int ChmodNative(byte[] path, uint mode);

    [LibraryImport("libc", EntryPoint = "mknod", SetLastError = true)]
    private static partial int MknodNative(byte[] path, uint mode, ulong dev);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static partial int StatxNative(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);

    [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true)]
    private static partial IntPtr OpendirNative(byte[] path);

    [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
    private static partial IntPtr ReaddirNative(IntPtr dir);

    [LibraryImport("libc", EntryPoint = "closedir")]
    private static partial int ClosedirNative(IntPtr dir);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static partial int UnlinkNative(byte[] path);

    [LibraryImport("libc", EntryPoint = "rmdir", SetLastError = true)]
    private static partial int RmdirNative(byte[] path);

    /// <summary>The bytes of a path given as text (valid UTF-8).</summary>
    public static byte[] Bytes(string path) => Encoding.UTF8.GetBytes(path);

    /// <summary><paramref name="dir"/> + '/' + <paramref name="name"/>.</summary>
    public static byte[] Join(byte[] dir, byte[] name) => [.. dir, (byte)'/', .. name];

    public static void CreateDirectory(byte[] path, int mode = 0b111_101_101)
    {
        Check(MkdirNative(Z(path), (uint)mode), "mkdir", path);
        Check(ChmodNative(Z(path), (uint)mode), "chmod", path);
    }

    public static void WriteFile(byte[] path, byte[] content, int mode = 0b110_100_100)
    {
        var fd = OpenNative(Z(path), OWrOnly | OCreat | OExcl | OCloExec, 0b110_000_000);
        Check(fd < 0 ? -1 : 0, "open", path);
        using (var handle = new SafeFileHandle(fd, ownsHandle: true))
        {
            RandomAccess.Write(handle, content, 0);
        }

        Check(ChmodNative(Z(path), (uint)mode), "chmod", path);
    }

    public static void MakeFifo(byte[] path, int mode)
    {
        Check(MknodNative(Z(path), 0x1000u | (uint)mode, 0), "mknod", path);
        Check(ChmodNative(Z(path), (uint)mode), "chmod", path);
    }

    /// <summary>A character device; <paramref name="major"/> and <paramref name="minor"/> below 256 (glibc's makedev for small numbers).</summary>
    public static void MakeCharDevice(byte[] path, int mode, int major, int minor)
    {
        Check(MknodNative(Z(path), 0x2000u | (uint)mode, ((ulong)major << 8) | (uint)minor), "mknod", path);
        Check(ChmodNative(Z(path), (uint)mode), "chmod", path);
    }

    /// <summary>
    /// Every path below <paramref name="root"/> (relative, each byte outside printable ASCII and every '\' as \xHH) with
    /// what a restore must reproduce: kind, permission bits, size, the SHA-256 of a file's bytes, a device's number.
    /// </summary>
    public static SortedDictionary<string, string> Snapshot(string root)
    {
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Walk(byte[] dir, string shown)
        {
            foreach (var name in List(dir))
            {
                var path = Join(dir, name);
                var relative = shown.Length == 0 ? Show(name) : shown + "/" + Show(name);
                var (kind, mode, size, major, minor) = Stat(path);
                var what = kind switch
                {
                    0x4000 => "dir",
                    0x8000 => "file " + Convert.ToHexStringLower(SHA256.HashData(Read(path))),
                    0xA000 => "symlink",
                    0x1000 => "fifo",
                    0x2000 => $"chardev {major}:{minor}",
                    0x6000 => $"blockdev {major}:{minor}",
                    _ => "socket",
                };
                all[relative] = $"{what} mode {Convert.ToString(mode, 8)} size {(kind == 0x8000 ? size : 0)}";
                if (kind == 0x4000)
                {
                    Walk(path, relative);
                }
            }
        }

        Walk(Bytes(root), "");
        return all;
    }

    /// <summary>The differences between two snapshots, one line each ("name: a ≠ b"); empty when equal.</summary>
    public static List<string> Differences(SortedDictionary<string, string> expected, SortedDictionary<string, string> actual)
    {
        var lines = new List<string>();
        foreach (var key in expected.Keys.Union(actual.Keys).Order(StringComparer.Ordinal))
        {
            var a = expected.GetValueOrDefault(key, "missing");
            var b = actual.GetValueOrDefault(key, "missing");
            if (a != b)
            {
                lines.Add($"{key}: {a} ≠ {b}");
            }
        }

        return lines;
    }

    /// <summary>Removes a tree by bytes (TempDir's System.IO delete cannot see names that are not UTF-8).</summary>
    public static void Remove(string root)
    {
        void Rm(byte[] path)
        {
            if (Stat(path).Kind == 0x4000)
            {
                _ = ChmodNative(Z(path), 0b111_000_000);
                foreach (var name in List(path))
                {
                    Rm(Join(path, name));
                }

                Check(RmdirNative(Z(path)), "rmdir", path);
            }
            else
            {
                Check(UnlinkNative(Z(path)), "unlink", path);
            }
        }

        if (Directory.Exists(root))
        {
            Rm(Bytes(root));
        }
    }

    /// <summary>A name for messages: printable ASCII as it is (but '\'), every other byte as \xHH. Unique per byte string.</summary>
    public static string Show(byte[] name)
    {
        var s = new StringBuilder();
        foreach (var b in name)
        {
            if (b is >= 0x20 and < 0x7f && b != '\\')
            {
                s.Append((char)b);
            }
            else
            {
                s.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return s.ToString();
    }

    private static List<byte[]> List(byte[] dir)
    {
        var d = OpendirNative(Z(dir));
        Check(d == IntPtr.Zero ? -1 : 0, "opendir", dir);
        try
        {
            var names = new List<byte[]>();
            while (ReaddirNative(d) is var e && e != IntPtr.Zero)
            {
                var name = new List<byte>();
                for (var i = 19; Marshal.ReadByte(e, i) is var b && b != 0; i++)
                {
                    name.Add(b);
                }

                if (name is not [(byte)'.'] and not [(byte)'.', (byte)'.'])
                {
                    names.Add([.. name]);
                }
            }

            return names;
        }
        finally
        {
            _ = ClosedirNative(d);
        }
    }

    private static (int Kind, int Mode, long Size, uint Major, uint Minor) Stat(byte[] path)
    {
        var b = new byte[256];
        Check(StatxNative(-100, Z(path), 0x100, 0x7ff, b), "statx", path);
        var mode = BitConverter.ToUInt16(b, 28);
        return (mode & 0xF000, mode & 0xFFF, BitConverter.ToInt64(b, 40), BitConverter.ToUInt32(b, 128), BitConverter.ToUInt32(b, 132));
    }

    private static byte[] Read(byte[] path)
    {
        var fd = OpenNative(Z(path), OCloExec, 0);
        Check(fd < 0 ? -1 : 0, "open", path);
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        var content = new byte[RandomAccess.GetLength(handle)];
        var read = 0;
        while (read < content.Length && RandomAccess.Read(handle, content.AsSpan(read), read) is var n && n > 0)
        {
            read += n;
        }

        return content;
    }

    private static byte[] Z(byte[] path) => [.. path, 0];

    private static void Check(int rc, string call, byte[] path)
    {
        if (rc != 0)
        {
            throw new IOException($"{call} {Show(path)}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }
}
