using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Benchmarks;

/// <summary>Chunk ids (HMAC-SHA256 with a reused keyed state) on 8 KiB blocks and 1 MiB chunks, and plain SHA-256.</summary>
[Config(typeof(QuickConfig))]
public class HashingBenchmarks
{
    private const int Size = 8 * 1024 * 1024;
    private byte[] _data = [];
    private ChunkHasher _hasher = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = DataSets.Generate(DataSet.Realistic, Size);
        _hasher = new ChunkHasher(Keys.Derive("id"));
    }

    [GlobalCleanup]
    public void Cleanup() => _hasher.Dispose();

    [Benchmark]
    [BytesPerOperation(Size)]
    public ChunkId ChunkHasher_8K() => Hmac(8 * 1024);

    [Benchmark]
    [BytesPerOperation(Size)]
    public ChunkId ChunkHasher_1M() => Hmac(1024 * 1024);

    [Benchmark]
    [BytesPerOperation(Size)]
    public byte Sha256_8K() => Sha(8 * 1024);

    [Benchmark]
    [BytesPerOperation(Size)]
    public byte Sha256_1M() => Sha(1024 * 1024);

    private ChunkId Hmac(int block)
    {
        ChunkId last = default;
        for (var offset = 0; offset < _data.Length; offset += block)
        {
            last = _hasher.Compute(_data.AsSpan(offset, block));
        }

        return last;
    }

    private byte Sha(int block)
    {
        Span<byte> digest = stackalloc byte[32];
        for (var offset = 0; offset < _data.Length; offset += block)
        {
            SHA256.HashData(_data.AsSpan(offset, block), digest);
        }

        return digest[0];
    }
}
