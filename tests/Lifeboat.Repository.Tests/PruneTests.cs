using Lifeboat.Core;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Repository.Tests;

public sealed class PruneTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deleting_one_backup_and_pruning_frees_its_data_and_never_breaks_another()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync(new InitOptions { PackSize = 1 << 20 });
        var shared = RepoBackups.Files(1, 4);
        var a = await RepoBackups.StoreAsync(repo, "s", shared);
        var onlyB = new Dictionary<string, byte[]>(shared) { ["extra/b.bin"] = TestData.Random(3 << 20, 77) };
        var b = await RepoBackups.StoreAsync(repo, "s", onlyB);
        var sizeBefore = t.Objects("data/").Sum(n => new FileInfo(t.PathOf(n)).Length);

        await repo.DeleteManifestAsync(b.Id, Ct);
        var report = await new Pruner(repo).PruneAsync(new PruneOptions(), null, Ct);
        Assert.True(report.PacksDeleted + report.PacksRepacked > 0);
        var sizeAfter = t.Objects("data/").Sum(n => new FileInfo(t.PathOf(n)).Length);
        Assert.True(sizeBefore - sizeAfter > 2 << 20, $"freed {sizeBefore - sizeAfter} bytes");

        await using var reopened = await t.OpenAsync();
        var verify = await new Verifier(reopened).VerifyAsync(new VerifyOptions { ReadData = true }, null, Ct);
        Assert.True(verify.IsHealthy, string.Join("\n", verify.Damage));
        var files = await RepoBackups.ReadAsync(reopened, a);
        foreach (var (path, content) in shared)
        {
            Assert.Equal(content, files[path]);
        }
    }

    [Fact]
    public async Task Prune_repacks_partly_used_packs_and_consolidates_the_index()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync(new InitOptions { PackSize = 8 << 20 });
        var keep = new Dictionary<string, byte[]> { ["keep.bin"] = TestData.Random(1 << 20, 1) };
        var drop = new Dictionary<string, byte[]> { ["keep.bin"] = keep["keep.bin"], ["drop.bin"] = TestData.Random(4 << 20, 2) };
        // One worker: both files land in one data pack, which then is only partly used.
        var mixed = await RepoBackups.StoreAsync(repo, "s", drop, options: new Writing.WriterOptions { Workers = 1 });
        await RepoBackups.StoreAsync(repo, "s", keep);
        Assert.True(t.Objects("index/").Count() >= 2);
        await repo.DeleteManifestAsync(mixed.Id, Ct);
        var report = await new Pruner(repo).PruneAsync(new PruneOptions(), null, Ct);
        Assert.Equal(1, report.PacksRepacked);
        Assert.Equal(1, report.IndexObjectsAfter);
        Assert.Single(t.Objects("index/"));
        await using var reopened = await t.OpenAsync();
        Assert.True((await new Verifier(reopened).VerifyAsync(new VerifyOptions { ReadData = true }, null, Ct)).IsHealthy);
    }

    [Fact]
    public async Task A_dry_run_changes_nothing()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var a = await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(3, 2));
        await repo.DeleteManifestAsync(a.Id, Ct);
        var before = t.Objects("").ToList();
        var report = await new Pruner(repo).PruneAsync(new PruneOptions { DryRun = true }, null, Ct);
        Assert.True(report.PacksDeleted > 0);
        Assert.Equal(before, t.Objects("").ToList());
    }

    [Fact]
    public async Task Prune_refuses_to_delete_anything_while_an_index_object_is_damaged()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(3, 2));
        var index = t.Objects("index/").First();
        File.WriteAllBytes(t.PathOf(index), [1, 2, 3]);
        var before = t.Objects("data/").ToList();
        var ex = await Assert.ThrowsAsync<DamageException>(() => new Pruner(repo).PruneAsync(new PruneOptions(), null, Ct));
        Assert.Contains("rebuild-index", ex.Hint, StringComparison.Ordinal);
        Assert.Equal(before, t.Objects("data/").ToList());
    }

    [Fact]
    public async Task Prune_removes_packs_that_no_index_lists()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(3, 2));
        Directory.CreateDirectory(t.PathOf("data/bb"));
        File.WriteAllBytes(t.PathOf("data/bb/" + new string('b', 64)), TestData.Random(1000, 1));
        var report = await new Pruner(repo).PruneAsync(new PruneOptions(), null, Ct);
        Assert.Equal(1, report.UnreferencedPacksDeleted);
        Assert.False(File.Exists(t.PathOf("data/bb/" + new string('b', 64))));
    }
}
