using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Repository.Tests;

/// <summary>Backups made directly through the repository API (no file system source), for repository-level tests.</summary>
internal static class RepoBackups
{
    public static async Task<Manifest> StoreAsync(Repo repo, string source, IReadOnlyDictionary<string, byte[]> files, int blockSize = 0, WriterOptions? options = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var index = await repo.LoadIndexAsync(ct);
        var started = repo.Time.GetUtcNow();
        var writer = new RepositoryWriter(repo, index, options ?? new WriterOptions { Workers = 2 }, ct);
        await using (writer)
        {
            var entries = new List<(TreeEntry Entry, Task<ChunkId[]> Chunks)>();
            var buffer = new byte[writer.StreamBufferSize];
            foreach (var (path, content) in files.OrderBy(f => f.Key, TreeOrder.Instance))
            {
                var list = writer.BeginList();
                if (blockSize > 0)
                {
                    await writer.SubmitAsync(list, content.ToArray(), content.Length, blockSize, pooled: false, ct);
                }
                else
                {
                    await writer.SubmitStreamAsync(list, new MemoryStream(content), buffer, ct);
                }

                entries.Add((new TreeEntry { Type = EntryType.File, Path = path, Mode = 420, Size = content.Length, Chunking = blockSize > 0 ? "block" : "cdc" }, list.CompleteAsync()));
            }

            var tree = new TreeBuilder(writer, repo.TreeChunker);
            tree.Add(new TreeEntry { Type = EntryType.Directory, Path = "", Mode = 493 });
            foreach (var (entry, chunks) in entries)
            {
                var ids = await chunks;
                entry.Chunks = ids.Length == 0 ? null : ids.ToList();
                tree.Add(entry);
            }

            var treeIds = tree.Finish();
            var result = await writer.CompleteAsync(ct);
            var manifest = new Manifest
            {
                Id = BackupId.New(started),
                Source = source,
                Kind = "files",
                Type = "full",
                Started = started,
                Finished = repo.Time.GetUtcNow(),
                Tree = treeIds.Select(i => i.ToString()).ToList(),
                Stats = new BackupStats { Files = files.Count, Chunks = result.Chunks, NewChunks = result.NewChunks, NewBytes = result.NewBytes, StoredBytes = result.StoredBytes },
            };
            await repo.SaveManifestAsync(manifest, ct);
            repo.InvalidateIndex();
            return manifest;
        }
    }

    public static async Task<Dictionary<string, byte[]>> ReadAsync(Repo repo, Manifest manifest)
    {
        var ct = TestContext.Current.CancellationToken;
        var index = await repo.LoadIndexAsync(ct);
        using var reader = new ChunkReader(repo, index);
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        await foreach (var entry in TreeReader.ReadAsync(reader, manifest, ct))
        {
            if (entry.Type != EntryType.File)
            {
                continue;
            }

            using var content = new MemoryStream();
            foreach (var id in entry.Chunks ?? [])
            {
                var chunk = await reader.ReadAsync(id, ct);
                content.Write(chunk.Span);
            }

            files[entry.Path] = content.ToArray();
        }

        return files;
    }

    public static Dictionary<string, byte[]> Files(int seed, int count = 6)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            files[$"dir{i % 2}/file{i}.bin"] = i % 2 == 0 ? TestData.Text(300_000 + (i * 7919), seed + i) : TestData.Random(200_000 + (i * 104729), seed + i);
        }

        files["empty.txt"] = [];
        return files;
    }
}
