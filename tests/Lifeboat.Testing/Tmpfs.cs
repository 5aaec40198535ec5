namespace Lifeboat.Testing;

/// <summary>
/// A small tmpfs mounted for one test, to fill a real file system (ENOSPC) without filling the machine's disk.
/// Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the test is skipped on a developer machine and
/// fails when CI is set, like a missing peer: the disk-full paths must be proven where the suite runs for real.
/// </summary>
public sealed class Tmpfs : IAsyncDisposable
{
    private readonly TempDir _dir;

    private Tmpfs(TempDir dir, string mountPoint)
    {
        _dir = dir;
        MountPoint = mountPoint;
    }

    public string MountPoint { get; }

    public static async Task<Tmpfs> MountOrSkipAsync(string size, CancellationToken cancellationToken)
    {
        var dir = new TempDir("lifeboat-tmpfs-");
        var mountPoint = dir.Dir("mnt");
        var (code, output) = await Programs.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={size}", "tmpfs", mountPoint], cancellationToken);
        if (code != 0)
        {
            dir.Dispose();
            Peers.Require(false, $"a tmpfs mount to fill a file system (needs root: {output.Trim()})");
        }

        return new Tmpfs(dir, mountPoint);
    }

    public async ValueTask DisposeAsync()
    {
        var (code, output) = await Programs.RunAsync("umount", [MountPoint], CancellationToken.None);
        if (code != 0)
        {
            // Never leave a mount behind; a lazy unmount detaches it even if something still holds a file open.
            (code, output) = await Programs.RunAsync("umount", ["-l", MountPoint], CancellationToken.None);
        }

        _dir.Dispose();
        Assert.True(code == 0, $"umount {MountPoint} failed: {output}");
    }
}
