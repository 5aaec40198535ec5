using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;

namespace Lifeboat.Benchmarks;

/// <summary>
/// The whole data path: 256 MiB through <see cref="Lifeboat.Repository.Writing.RepositoryWriter"/> (2 workers) into a fresh
/// encrypted local repository per iteration (so nothing deduplicates against an earlier iteration), CDC chunks or 8 KiB blocks.
/// </summary>
[Config(typeof(PipelineConfig))]
public class PipelineBenchmarks
{
    private const int Size = 256 * 1024 * 1024;
    private byte[] _data = [];
    private ScratchRepository? _scratch;

    [Params(DataSet.Pgbench, DataSet.Realistic)]
    public DataSet Data { get; set; }

    [Params(Chunking.Cdc, Chunking.Blocks)]
    public Chunking Chunking { get; set; }

    [GlobalSetup]
    public void Setup() => _data = DataSets.Generate(Data, Size);

    [IterationSetup]
    public void CreateRepository() => _scratch = ScratchRepository.CreateAsync(null, discardPacks: false, CancellationToken.None).GetAwaiter().GetResult();

    [IterationCleanup]
    public void DeleteRepository() => _scratch?.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    [BytesPerOperation(Size)]
    public async Task<long> Store()
    {
        using var input = new MemoryStream(_data, writable: false);
        var result = await Pipeline.StoreAsync(_scratch!.Repository, input, Chunking, workers: 2, CancellationToken.None);
        return result.StoredBytes;
    }
}

/// <summary>One invocation per iteration (each needs a fresh repository): 1 warm-up, 5 measured.</summary>
public sealed class PipelineConfig : BenchmarkDotNet.Configs.ManualConfig
{
    public PipelineConfig()
    {
        AddJob(BenchmarkDotNet.Jobs.Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5)
            .WithInvocationCount(1).WithUnrollFactor(1)
            .WithId("Pipeline"));
        AddColumn(ThroughputColumn.Instance, BenchmarkDotNet.Columns.StatisticColumn.Median);
    }
}
