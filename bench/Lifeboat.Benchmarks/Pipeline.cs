using System.Buffers;
using System.Diagnostics;
using Lifeboat.Repository;
using Lifeboat.Repository.Chunking;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Writing;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Benchmarks;

public enum Chunking
{
    /// <summary>StreamChunker (FastCDC, 256 KiB / 1 MiB / 4 MiB), one SubmitAsync per chunk, as the files source does.</summary>
    Cdc,

    /// <summary>1 MiB reads submitted as 8 KiB blocks (SubmitAsync with blockSize 8192), as relation files will be.</summary>
    Blocks,
}

/// <summary>A fresh encrypted repository (key file) in a temporary directory; deleted on dispose.</summary>
public sealed class ScratchRepository : IAsyncDisposable
{
    private ScratchRepository(string root, Repository.Repository repository)
    {
        Root = root;
        Repository = repository;
    }

    public string Root { get; }

    public Repository.Repository Repository { get; }

    /// <param name="parent">Directory to create it in (default: the system temp directory).</param>
    /// <param name="discardPacks">Open it through <see cref="DiscardingTarget"/>: packs are written to the spool file but never saved (no fsync, no rename).</param>
    public static async Task<ScratchRepository> CreateAsync(string? parent, bool discardPacks, CancellationToken cancellationToken)
    {
        var root = Path.Combine(parent ?? Path.GetTempPath(), "lifeboat-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var keyFile = Path.Combine(root, "key");
        var key = KeyMaterial.CreateKeyFile(keyFile);
        var target = new LocalTarget(Path.Combine(root, "repo"));
        var repository = await Lifeboat.Repository.Repository.InitAsync(target, new InitOptions { Key = key }, TimeProvider.System, null, cancellationToken);
        if (discardPacks)
        {
            await repository.DisposeAsync();
            repository = await Lifeboat.Repository.Repository.OpenAsync(new DiscardingTarget(target), () => key, TimeProvider.System, null, cancellationToken);
        }

        return new ScratchRepository(root, repository);
    }

    public async ValueTask DisposeAsync()
    {
        await Repository.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Pushes a stream through <see cref="RepositoryWriter"/>, the way the files source does.</summary>
public static class Pipeline
{
    public const int BlockReadSize = 1024 * 1024;

    public static async Task<WriterResult> StoreAsync(Repository.Repository repository, Stream input, Chunking chunking, int workers, CancellationToken cancellationToken)
    {
        var index = new ChunkIndex();
        await using var writer = new RepositoryWriter(repository, index, new WriterOptions { Workers = workers }, cancellationToken);
        var list = writer.BeginList();
        if (chunking == Chunking.Cdc)
        {
            var window = new byte[repository.DataChunker.Max * 2];
            var chunker = new StreamChunker(repository.DataChunker, input, window);
            while (true)
            {
                var chunk = await chunker.NextAsync(cancellationToken);
                if (chunk.IsEmpty)
                {
                    break;
                }

                var copy = ArrayPool<byte>.Shared.Rent(chunk.Length);
                chunk.Span.CopyTo(copy);
                await writer.SubmitAsync(list, copy, chunk.Length, 0, pooled: true, cancellationToken);
            }
        }
        else
        {
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(BlockReadSize);
                var n = await input.ReadAtLeastAsync(buffer.AsMemory(0, BlockReadSize), BlockReadSize, throwOnEndOfStream: false, cancellationToken);
                if (n == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                await writer.SubmitAsync(list, buffer, n, repository.BlockSize, pooled: true, cancellationToken);
            }
        }

        await list.CompleteAsync();
        return await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>
    /// The <c>pipeline FILE</c> mode: stores the file <paramref name="runs"/> times, each into a fresh repository, and prints
    /// the input MB/s of each run (lines <c>result mbps=… cpu_s=…</c>, read by bench/pipeline-vs-zstd.sh) and the medians.
    /// </summary>
    public static async Task<int> RunFileAsync(string path, Chunking chunking, int runs, int workers, bool discardPacks, bool fromMemory, string? parent)
    {
        var length = new FileInfo(path).Length;
        var memory = fromMemory ? await File.ReadAllBytesAsync(path) : null;
        var results = new List<double>();
        var cpus = new List<double>();
        Console.WriteLine($"pipeline: {path} ({length / 1e6:F1} MB), chunking {chunking}, {workers} workers, target {(discardPacks ? "discarding" : "local")}, input {(fromMemory ? "memory" : "file")}, {runs} runs");
        for (var run = 0; run <= runs; run++)
        {
            await using var scratch = await ScratchRepository.CreateAsync(parent, discardPacks, CancellationToken.None);
            var process = Process.GetCurrentProcess();
            var cpuBefore = process.TotalProcessorTime;
            var gcBefore = GC.CollectionCount(0);
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var watch = Stopwatch.StartNew();
            WriterResult result;
            await using (Stream file = memory is not null ? new MemoryStream(memory, writable: false) : new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan))
            {
                result = await StoreAsync(scratch.Repository, file, chunking, workers, CancellationToken.None);
            }

            watch.Stop();
            process.Refresh();
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            var seconds = watch.Elapsed.TotalSeconds;
            var mbps = length / seconds / 1e6;
            var label = run == 0 ? "warm-up" : $"run {run}";
            Console.WriteLine(
                $"  {label,-8} {seconds,7:F3} s  {mbps,7:F1} MB/s  cpu {cpu:F2} s ({cpu / seconds * 100:F0} % of one core)  " +
                $"chunks {result.Chunks}  stored {result.StoredBytes / 1e6:F1} MB (ratio {(double)length / result.StoredBytes:F2})  " +
                $"gen0 {GC.CollectionCount(0) - gcBefore}  alloc {(GC.GetTotalAllocatedBytes() - allocatedBefore) / 1e6:F0} MB");
            if (run > 0)
            {
                results.Add(mbps);
                cpus.Add(cpu);
                Console.WriteLine(FormattableString.Invariant($"result mbps={mbps:F2} cpu_s={cpu:F3}"));
            }
        }

        Console.WriteLine(FormattableString.Invariant($"median_mbps={Median(results):F1} median_cpu_s={Median(cpus):F3}"));
        return 0;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        var n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[(n / 2) - 1] + values[n / 2]) / 2;
    }
}

/// <summary>
/// A local target that throws packs away instead of saving them (everything else is saved): isolates the cost of
/// fsync and rename from the CPU work of the pipeline. For analysis only.
/// </summary>
public sealed class DiscardingTarget(LocalTarget inner) : ITarget
{
    public string DisplayName => inner.DisplayName + " (packs discarded)";

    public TargetCapabilities Capabilities => inner.Capabilities;

    public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken) => inner.SaveAsync(name, content, mode, cancellationToken);

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
    {
        if (name.StartsWith("data/", StringComparison.Ordinal))
        {
            File.Delete(path);
            return Task.CompletedTask;
        }

        return inner.SaveFileAsync(name, path, mode, cancellationToken);
    }

    public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
        => inner.LoadAsync(name, offset, length, consumer, cancellationToken);

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken) => inner.StatAsync(name, cancellationToken);

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) => inner.DeleteAsync(name, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
