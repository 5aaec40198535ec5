using System.Runtime.InteropServices;

namespace Lifeboat.Targets.Local;

/// <summary>The few POSIX calls .NET does not expose: fsync of a directory.</summary>
public static partial class Posix
{
    private const int O_RDONLY = 0;
    private const int O_DIRECTORY = 0x10000; // Linux

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    /// <summary>
    /// Makes a rename or a new entry in <paramref name="directory"/> durable (STYLE.md rule 2). A no-op on Windows.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Open(directory, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                // EINVAL: the file system does not support syncing directories (some FUSE/network mounts).
                if (errno != 22)
                {
                    throw new IOException($"fsync of directory {directory} failed (errno {errno})");
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }
}
