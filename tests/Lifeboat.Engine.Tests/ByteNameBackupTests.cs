using System.Net.Sockets;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Restores;

namespace Lifeboat.Engine.Tests;

/// <summary>
/// File names are bytes on Linux (issue 19 item 2): names that are not UTF-8, FIFOs, device files and sockets, each
/// proved by a real backup, a real restore and a comparison of the trees by bytes (<see cref="ByteTree"/>).
/// </summary>
public sealed class ByteNameBackupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<BackupSourceResult> BackupAsync(EngineFixture f, string? type = null) => f.Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app", type), Ct);

    private static async Task<FilesRestored> RestoreAsync(EngineFixture f, string to, string? backup = null)
        => (FilesRestored)await f.Use<RestoreSource>().ExecuteAsync(new RestoreSourceRequest { Source = "app", To = to, Backup = backup }, Ct);

    /// <summary>Removes the fixture's trees by bytes first: TempDir's System.IO delete cannot see these names.</summary>
    private sealed class RawCleanup(EngineFixture f) : IDisposable
    {
        public void Dispose() => ByteTree.Remove(f.Dir.Path);
    }

    [Fact]
    public async Task Names_that_are_not_utf8_are_backed_up_and_restored_byte_for_byte_also_by_an_incremental_backup()
    {
        using var f = new EngineFixture();
        using var cleanup = new RawCleanup(f);
        var source = ByteTree.Bytes(f.Source);
        ByteTree.WriteFile(ByteTree.Join(source, [0x66, 0xff, 0x6f]), "f\\xffo"u8.ToArray());
        var dir = ByteTree.Join(source, [0x64, 0xfe, 0xc3, 0x28]);
        ByteTree.CreateDirectory(dir, Convert.ToInt32("750", 8));
        ByteTree.WriteFile(ByteTree.Join(dir, [0x80, 0x69, 0x6e]), "inside"u8.ToArray(), Convert.ToInt32("600", 8));
        ByteTree.WriteFile(ByteTree.Join(dir, "plain.txt"u8.ToArray()), "plain"u8.ToArray());

        var first = await BackupAsync(f);
        Assert.Empty(first.Problems);
        var restored = f.Dir.Combine("restored");
        await RestoreAsync(f, restored);
        Assert.Empty(ByteTree.Differences(ByteTree.Snapshot(f.Source), ByteTree.Snapshot(restored)));

        // The incremental one finds every file of the parent, names that are not UTF-8 included, and adds a new one.
        ByteTree.WriteFile(ByteTree.Join(dir, [0xed, 0xa0, 0x80]), "a surrogate in CESU-8"u8.ToArray());
        var second = await BackupAsync(f);
        Assert.Empty(second.Problems);
        Assert.Equal("incr", second.Type);
        Assert.Equal(first.Stats.Files, second.Stats.UnchangedFiles);
        Assert.Equal(first.Stats.Files + 1, second.Stats.Files);
        var again = f.Dir.Combine("again");
        await RestoreAsync(f, again, second.Id);
        Assert.Empty(ByteTree.Differences(ByteTree.Snapshot(f.Source), ByteTree.Snapshot(again)));
    }

    [Fact]
    public async Task Random_byte_names_of_every_length_survive_backup_and_restore_byte_identical()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("LIFEBOAT_TEST_SEED"), out var s) ? s : Environment.TickCount;
        var random = new Random(seed);
        using var f = new EngineFixture(createTree: false);
        using var cleanup = new RawCleanup(f);
        var modes = new[] { "644", "600", "755", "444", "640" }.Select(m => Convert.ToInt32(m, 8)).ToArray();
        var directories = new List<byte[]> { ByteTree.Bytes(f.Source) };
        var names = 0;
        for (var d = 0; d < 4; d++)
        {
            var dir = ByteTree.Join(directories[random.Next(directories.Count)], RandomName(random, new HashSet<string>()));
            ByteTree.CreateDirectory(dir);
            directories.Add(dir);
            names++;
        }

        foreach (var dir in directories)
        {
            var used = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < 75; i++)
            {
                var content = new byte[random.Next(0, 200)];
                random.NextBytes(content);
                ByteTree.WriteFile(ByteTree.Join(dir, RandomName(random, used)), content, modes[random.Next(modes.Length)]);
                names++;
            }
        }

        var first = await BackupAsync(f);
        var why = $"seed {seed} (rerun with LIFEBOAT_TEST_SEED={seed}), {names} random names";
        Assert.True(first.Problems.Count == 0, $"{why}: {string.Join("; ", first.Problems)}");
        var restored = f.Dir.Combine("restored");
        await RestoreAsync(f, restored);
        var differences = ByteTree.Differences(ByteTree.Snapshot(f.Source), ByteTree.Snapshot(restored));
        Assert.True(differences.Count == 0, $"{why}: {differences.Count} difference(s): {string.Join("; ", differences.Take(10))}");

        // The incremental backup must find every file in its parent's tree (both in tree order by bytes).
        var second = await BackupAsync(f);
        Assert.True(second.Stats.UnchangedFiles == first.Stats.Files, $"{why}: {second.Stats.UnchangedFiles} of {first.Stats.Files} files found unchanged in the parent");
        ByteTree.Remove(restored);
        await RestoreAsync(f, restored, second.Id);
        differences = ByteTree.Differences(ByteTree.Snapshot(f.Source), ByteTree.Snapshot(restored));
        Assert.True(differences.Count == 0, $"{why}: the incremental backup: {string.Join("; ", differences.Take(10))}");
    }

    /// <summary>1..255 bytes, every byte but NUL and '/', never "." or "..", not used yet in its directory.</summary>
    private static byte[] RandomName(Random random, HashSet<string> used)
    {
        while (true)
        {
            // Short names more often (where collisions with each other and with UTF-8 are likeliest), every length possible.
            var length = random.Next(3) == 0 ? random.Next(1, 256) : random.Next(1, 12);
            var name = new byte[length];
            for (var i = 0; i < length; i++)
            {
                byte b;
                do
                {
                    b = (byte)random.Next(1, 256);
                }
                while (b == '/');
                name[i] = b;
            }

            if (name is [(byte)'.'] or [(byte)'.', (byte)'.'] || !used.Add(Convert.ToHexString(name)))
            {
                continue;
            }

            return name;
        }
    }

    [Fact]
    public async Task A_fifo_and_a_character_device_are_restored_with_their_type_and_device_and_a_socket_is_reported()
    {
        Assert.SkipUnless(Peers.IsRoot, "creating a device file needs root (mknod)");
        using var f = new EngineFixture(createTree: false);
        using var cleanup = new RawCleanup(f);
        var source = ByteTree.Bytes(f.Source);
        ByteTree.MakeFifo(ByteTree.Join(source, "queue"u8.ToArray()), Convert.ToInt32("620", 8));
        ByteTree.MakeFifo(ByteTree.Join(source, [0x71, 0xff]), Convert.ToInt32("600", 8));
        ByteTree.MakeCharDevice(ByteTree.Join(source, "null"u8.ToArray()), Convert.ToInt32("666", 8), 1, 3);
        ByteTree.WriteFile(ByteTree.Join(source, "regular"u8.ToArray()), "x"u8.ToArray());
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(f.Source, "app.sock")));

        var backup = await BackupAsync(f);
        Assert.Empty(backup.Problems);
        Assert.Equal(["app.sock: socket ignored (a socket cannot be backed up; the program that listens on it creates it again)"], backup.Warnings);
        Assert.Equal("1 socket(s) ignored", backup.Tags!["socketsIgnored"]);
        Assert.Equal("[\"app.sock\"]", backup.Details!["socketsIgnored"]!.ToJsonString());

        var restored = f.Dir.Combine("restored");
        var result = await RestoreAsync(f, restored);
        Assert.Equal(3, result.Specials);
        Assert.Null(result.Warnings);
        var expected = ByteTree.Snapshot(f.Source);
        Assert.StartsWith("socket", expected["app.sock"], StringComparison.Ordinal);
        expected.Remove("app.sock");
        var actual = ByteTree.Snapshot(restored);
        Assert.Empty(ByteTree.Differences(expected, actual));
        Assert.Equal("chardev 1:3 mode 666 size 0", actual["null"]);
        Assert.Equal("fifo mode 620 size 0", actual["queue"]);
        Assert.Equal("fifo mode 600 size 0", actual["q\\xff"]);

        // The next backup takes them from the walk again (they have no content to trust the parent for).
        var second = await BackupAsync(f);
        Assert.Equal(1, second.Stats.UnchangedFiles);
        Assert.Equal(4, second.Stats.Files);
    }
}
