namespace Lifeboat.Targets.Tests;

/// <summary>
/// A small tmpfs mounted for one test, to fill a real file system (ENOSPC) without filling the machine's disk.
/// Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the test is skipped: a full disk is a local
/// condition, not a peer that CI must provide.
/// </summary>
internal sealed class Tmpfs : IAsyncDisposable
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
            Assert.Skip($"cannot mount a tmpfs to fill a file system (needs root): {output.Trim()}");
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
