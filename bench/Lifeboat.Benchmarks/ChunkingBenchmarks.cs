using BenchmarkDotNet.Attributes;
using Lifeboat.Repository.Chunking;

namespace Lifeboat.Benchmarks;

/// <summary>Cutting 64 MiB into chunks: FastCDC with the data sizes (256 KiB / 1 MiB / 4 MiB) and fixed 8 KiB blocks.</summary>
[Config(typeof(QuickConfig))]
public class ChunkingBenchmarks
{
    private const int Size = 64 * 1024 * 1024;
    private byte[] _data = [];
    private byte[] _window = [];
    private FastCdc _cdc = null!;

    [Params(DataSet.Pgbench, DataSet.Realistic)]
    public DataSet Data { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = DataSets.Generate(Data, Size);
        _cdc = new FastCdc(Keys.Derive("chunker"), ChunkerSizes.Data);
        _window = new byte[ChunkerSizes.Data.Max * 2];
    }

    /// <summary>FastCDC boundaries over an in-memory buffer (the chunker's inner loop only).</summary>
    [Benchmark]
    [BytesPerOperation(Size)]
    public int FastCdcCut()
    {
        var chunks = 0;
        var rest = _data.AsSpan();
        while (!rest.IsEmpty)
        {
            var n = _cdc.Cut(rest, isFinal: true);
            rest = rest[n..];
            chunks++;
        }

        return chunks;
    }

    /// <summary>StreamChunker over a MemoryStream: FastCDC plus the reads and the window shifts the writer sees.</summary>
    [Benchmark]
    [BytesPerOperation(Size)]
    public async Task<int> StreamChunker()
    {
        var chunks = 0;
        using var stream = new MemoryStream(_data, writable: false);
        var chunker = new StreamChunker(_cdc, stream, _window);
        while (!(await chunker.NextAsync(CancellationToken.None)).IsEmpty)
        {
            chunks++;
        }

        return chunks;
    }

    /// <summary>Fixed 8 KiB blocks: slicing only (touches one byte per block so the loop is not optimised away).</summary>
    [Benchmark]
    [BytesPerOperation(Size)]
    public int FixedBlocks8K()
    {
        var sum = 0;
        var rest = _data.AsSpan();
        while (!rest.IsEmpty)
        {
            var block = rest[..Math.Min(8192, rest.Length)];
            sum += block[^1];
            rest = rest[block.Length..];
        }

        return sum;
    }
}
