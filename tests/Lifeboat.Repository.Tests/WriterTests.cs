using Lifeboat.Repository.Format;
using Lifeboat.Repository.Writing;

namespace Lifeboat.Repository.Tests;

public sealed class WriterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Files_stored_with_content_defined_chunks_read_back_identical()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var files = RepoBackups.Files(10);
        var manifest = await RepoBackups.StoreAsync(repo, "s", files);
        var read = await RepoBackups.ReadAsync(repo, manifest);
        Assert.Equal(files.Keys.Order(), read.Keys.Order());
        foreach (var (path, content) in files)
        {
            Assert.Equal(TestData.Sha256(content), TestData.Sha256(read[path]));
        }
    }

    [Fact]
    public async Task Files_stored_as_fixed_blocks_read_back_identical_and_a_partial_last_block_is_kept()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var files = new Dictionary<string, byte[]> { ["base/1/16384"] = TestData.Text((8192 * 40) + 123, 3) };
        var manifest = await RepoBackups.StoreAsync(repo, "s", files, blockSize: 8192);
        Assert.Equal(files["base/1/16384"], (await RepoBackups.ReadAsync(repo, manifest))["base/1/16384"]);
    }

    [Fact]
    public async Task A_second_backup_of_the_same_data_stores_only_a_new_manifest_and_tree()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var files = RepoBackups.Files(4);
        var first = await RepoBackups.StoreAsync(repo, "s", files);
        var second = await RepoBackups.StoreAsync(repo, "s", files);
        Assert.True(first.Stats.NewBytes > 1_000_000);
        Assert.Equal(0, second.Stats.NewChunks);
        Assert.Equal(0, second.Stats.StoredBytes);
    }

    [Fact]
    public async Task Only_changed_blocks_are_stored_again()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var data = TestData.Random(8192 * 100, 1);
        await RepoBackups.StoreAsync(repo, "s", new Dictionary<string, byte[]> { ["rel"] = data }, blockSize: 8192);
        Assert.Equal(100, await DataChunksAsync(repo));
        var changed = data.ToArray();
        changed[8192 * 10] ^= 1;
        changed[(8192 * 50) + 17] ^= 1;
        var second = await RepoBackups.StoreAsync(repo, "s", new Dictionary<string, byte[]> { ["rel"] = changed }, blockSize: 8192);
        Assert.Equal(102, await DataChunksAsync(repo));
        Assert.Equal(changed, (await RepoBackups.ReadAsync(repo, second))["rel"]);
    }

    private static async Task<int> DataChunksAsync(Lifeboat.Repository.Repository repo)
    {
        var index = await repo.LoadIndexAsync(Ct);
        return index.Chunks.Count(c => index.Pack(index.Frame(c.Value.Frame).Pack).Type == PackType.Data);
    }

    [Fact]
    public async Task Identical_chunks_in_one_backup_are_stored_once()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var block = TestData.Random(8192, 4);
        var data = Enumerable.Repeat(block, 50).SelectMany(b => b).ToArray();
        var manifest = await RepoBackups.StoreAsync(repo, "s", new Dictionary<string, byte[]> { ["a"] = data, ["b"] = data }, blockSize: 8192);
        Assert.Equal(100, manifest.Stats.Chunks - manifest.Tree.Count);
        Assert.Equal(1 + manifest.Tree.Count, manifest.Stats.NewChunks);
    }

    [Fact]
    public async Task Packs_roll_over_at_the_pack_size_and_every_pack_is_indexed()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync(new InitOptions { PackSize = 1 << 20 });
        var files = new Dictionary<string, byte[]> { ["big"] = TestData.Random(6 << 20, 8) };
        var manifest = await RepoBackups.StoreAsync(repo, "s", files, blockSize: 8192, options: new WriterOptions { Workers = 2, PacksPerIndexObject = 2 });
        var packs = t.Objects("data/").ToList();
        Assert.True(packs.Count >= 6, $"{packs.Count} packs");
        Assert.True(t.Objects("index/").Count() >= 3, "an index object is written every two packs");
        var index = await repo.LoadIndexAsync(Ct);
        Assert.Equal(packs.Count, index.PackCount);
        Assert.Equal(files["big"], (await RepoBackups.ReadAsync(repo, manifest))["big"]);
        Assert.Empty(Directory.EnumerateFiles(t.Root, "*.tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Pack_names_are_the_sha256_of_their_content()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(3));
        foreach (var name in t.Objects("data/"))
        {
            var id = ObjectNames.PackIdOf(name);
            Assert.NotNull(id);
            Assert.Equal(id.Value.ToString(), TestData.Sha256(File.ReadAllBytes(t.PathOf(name))));
        }
    }

    [Fact]
    public async Task A_full_disk_fails_the_writer_leaves_no_manifest_and_the_next_backup_succeeds()
    {
        using var t = new TestRepository();
        await using (var repo = await t.InitAsync())
        {
            await RepoBackups.StoreAsync(repo, "s", RepoBackups.Files(1));
        }

        FaultyTarget? faulty = null;
        await using (var full = await t.OpenAsync(inner => faulty = new FaultyTarget(inner) { NoSpaceAfterBytes = 200_000, FailPrefix = "data/" }))
        {
            var ex = await Assert.ThrowsAsync<Targets.TargetException>(() => RepoBackups.StoreAsync(full, "s", RepoBackups.Files(50, count: 12), options: new WriterOptions { Workers = 2 }));
            Assert.Equal(Targets.TargetErrorKind.NoSpace, ex.Kind);
        }

        Assert.Single(t.Objects("backups/"));
        await using var repo2 = await t.OpenAsync();
        var report = await new Maintenance.Verifier(repo2).VerifyAsync(new Maintenance.VerifyOptions { ReadData = true }, null, Ct);
        Assert.True(report.IsHealthy, string.Join("\n", report.Damage));
        var again = await RepoBackups.StoreAsync(repo2, "s", RepoBackups.Files(50, count: 12));
        Assert.Equal(RepoBackups.Files(50, count: 12)["dir1/file3.bin"], (await RepoBackups.ReadAsync(repo2, again))["dir1/file3.bin"]);
    }

    [Fact]
    public async Task A_stream_submitted_whole_gets_the_chunks_of_cutting_it_by_hand_and_its_length()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var content = TestData.Random((3 << 20) + 12345, 7);
        var index = await repo.LoadIndexAsync(Ct);
        await using var writer = new RepositoryWriter(repo, index, new WriterOptions { Workers = 2 }, Ct);
        var buffer = new byte[writer.StreamBufferSize];

        var whole = writer.BeginList();
        Assert.Equal(content.Length, await writer.SubmitStreamAsync(whole, new MemoryStream(content), buffer, Ct));
        var byHand = writer.BeginList();
        var chunker = new Chunking.StreamChunker(repo.DataChunker, new MemoryStream(content), new byte[repo.DataChunker.Max * 2]);
        for (var chunk = await chunker.NextAsync(Ct); !chunk.IsEmpty; chunk = await chunker.NextAsync(Ct))
        {
            await writer.SubmitAsync(byHand, chunk.ToArray(), chunk.Length, 0, pooled: false, Ct);
        }

        var empty = writer.BeginList();
        Assert.Equal(0, await writer.SubmitStreamAsync(empty, new MemoryStream([]), buffer, Ct));

        var ids = await whole.CompleteAsync();
        Assert.True(ids.Length > 1);
        Assert.Equal(await byHand.CompleteAsync(), ids);
        Assert.Empty(await empty.CompleteAsync());
        await writer.CompleteAsync(Ct);
    }

    [Fact]
    public async Task Cancelling_a_backup_commits_nothing_and_leaves_no_spool_files()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync(new InitOptions { PackSize = 1 << 20 });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var index = await repo.LoadIndexAsync(Ct);
        var writer = new RepositoryWriter(repo, index, new WriterOptions { Workers = 2 }, cts.Token);
        await using (writer)
        {
            var list = writer.BeginList();
            for (var i = 0; i < 5; i++)
            {
                await writer.SubmitAsync(list, TestData.Random(1 << 20, i), 1 << 20, 8192, pooled: false, cts.Token);
            }

            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CompleteAsync(cts.Token));
        }

        Assert.Empty(t.Objects("backups/"));
        Assert.Empty(Directory.EnumerateFiles(t.Root, "*.tmp-*", SearchOption.AllDirectories));
    }
}
