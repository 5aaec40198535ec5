using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Sources;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.Tests;

/// <summary>
/// The free-space estimate and a real full disk (issue 19, item 5), on a small tmpfs holding the repository: a tiny
/// incremental is not refused because an earlier backup was large, and ENOSPC in the middle of a backup is a clear
/// error that leaves no partial pack behind.
/// </summary>
public sealed class FullTargetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A fixture whose repository is on a fresh tmpfs of <paramref name="size"/>.</summary>
    private static async Task<(EngineFixture Fixture, Tmpfs Disk, string Repo)> OnSmallDiskAsync(string size)
    {
        var disk = await Tmpfs.MountOrSkipAsync(size, Ct);
        var f = new EngineFixture(createTree: false);
        var repo = Path.Combine(disk.MountPoint, "repo");
        var key = Lifeboat.Repository.Crypto.KeyMaterial.FromKeyFile(f.KeyFile);
        await using (await Lifeboat.Repository.Repository.InitAsync(Targets.TargetFactory.Open("file://" + repo), new Lifeboat.Repository.InitOptions { Key = key }, TimeProvider.System, null, Ct))
        {
        }

        f.Config.Edit(root => root["Repository"]!["Url"] = "file://" + repo);
        return (f, disk, repo);
    }

    private static Task<BackupSourceResult> BackupAsync(EngineFixture f) => f.Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app"), Ct);

    private static string[] TempFilesBelow(string directory)
        => Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Where(p => Path.GetFileName(p).Contains(".tmp-", StringComparison.Ordinal)).ToArray();

    private static async Task AssertVerifiesAsync(EngineFixture f)
    {
        await using var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct);
        Assert.True((await new Verifier(repo).VerifyAsync(new VerifyOptions { ReadData = true }, null, Ct)).IsHealthy);
    }

    [Fact]
    public async Task A_tiny_incremental_is_not_refused_because_an_earlier_backup_was_large()
    {
        var (f, disk, _) = await OnSmallDiskAsync("8m");
        await using (disk)
        using (f)
        {
            File.WriteAllBytes(Path.Combine(f.Source, "big.bin"), TestData.Random(5 << 20, 1));
            var first = await BackupAsync(f);
            Assert.True(first.Stats.StoredBytes > 5 << 20);

            // 17 bytes changed; the largest recent backup (5 MiB, 6.25 MiB with the margin) no longer fits.
            File.WriteAllText(Path.Combine(f.Source, "note.txt"), "seventeen bytes!\n");
            Assert.True(new DriveInfo(disk.MountPoint).AvailableFreeSpace < first.Stats.StoredBytes * SpaceCheck.Margin);
            await using (var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct))
            {
                var source = f.Workspace().GetSource("app");
                var estimate = await SpaceCheck.EstimateAsync(repo, "app", source, f.Use<SourceHandlers>().For(source), Ct);
                Assert.Equal(17, estimate.Input);
                Assert.Equal($"half of the 17 B in 1 file(s) changed since backup {first.Id}", estimate.Basis);
            }

            var second = await BackupAsync(f);
            Assert.Equal("incr", second.Type);
            Assert.Equal(17, second.Stats.BytesRead);
        }
    }

    [Fact]
    public async Task A_backup_that_fills_the_disk_says_so_removes_its_partial_pack_at_once_and_the_next_one_succeeds()
    {
        var (f, disk, repoDir) = await OnSmallDiskAsync("8m");
        await using (disk)
        using (f)
        {
            // 12 MiB of random data: the first-backup estimate (half of it, plus 25 %) fits in 8 MiB, the data does not.
            for (var i = 0; i < 3; i++)
            {
                File.WriteAllBytes(Path.Combine(f.Source, $"f{i}.bin"), TestData.Random(4 << 20, 10 + i));
            }

            var error = await Assert.ThrowsAsync<LifeboatException>(() => BackupAsync(f));

            Assert.Equal(ErrorCode.NoSpace, error.Code);
            Assert.Equal(2, error.ExitCode);
            Assert.Matches(@"^no space left on target primary \(file://.+/repo\) during the backup of 'app': needed about [0-9.]+ MiB, [0-9.]+ [KM]iB free$", error.Message);
            Assert.Equal("free space there, run `lifeboat expire`, or move the repository, then run the backup again; the partial pack was removed and the repository is consistent", error.Hint);

            // Removed at once, not by the next prune an hour later: the space is free again.
            Assert.Empty(TempFilesBelow(repoDir));
            Assert.True(new DriveInfo(disk.MountPoint).AvailableFreeSpace > 7 << 20, $"{new DriveInfo(disk.MountPoint).AvailableFreeSpace} bytes free after the failure");
            await using (var repo = await f.Use<RepositoryOpener>().OpenAsync(Ct))
            {
                Assert.Empty(await repo.ListBackupIdsAsync(Ct));
            }

            await AssertVerifiesAsync(f);

            // With less to store, the next backup fits, and restores.
            File.Delete(Path.Combine(f.Source, "f1.bin"));
            File.Delete(Path.Combine(f.Source, "f2.bin"));
            var outcome = await BackupAsync(f);
            var restored = f.Dir.Combine("r");
            await f.Use<RestoreSource>().ExecuteAsync(new RestoreSourceRequest { Source = "app", To = restored, Backup = outcome.Id }, Ct);
            Assert.Empty(Lifeboat.Engine.Demo.TreeComparer.Compare(f.Source, restored));
            await AssertVerifiesAsync(f);
        }
    }
}
