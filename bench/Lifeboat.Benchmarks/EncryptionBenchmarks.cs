using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Lifeboat.Repository.Crypto;

namespace Lifeboat.Benchmarks;

/// <summary>AES-256-GCM sealing and opening of 128 KiB frames (random nonce, associated data), through <see cref="Sealer"/>.</summary>
[Config(typeof(QuickConfig))]
public class EncryptionBenchmarks
{
    private const int FrameSize = 128 * 1024;
    private const int Size = 16 * 1024 * 1024;
    private const int Frames = Size / FrameSize;
    private byte[] _data = [];
    private byte[] _sealedFrame = [];
    private byte[][] _sealed = [];
    private byte[] _opened = [];
    private Sealer _sealer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _data = RandomNumberGenerator.GetBytes(Size);
        _sealer = Sealer.Encrypted(Keys.Derive("enc"));
        _sealedFrame = new byte[FrameSize + _sealer.Overhead];
        _opened = new byte[FrameSize];
        _sealed = new byte[Frames][];
        for (var i = 0; i < Frames; i++)
        {
            _sealed[i] = _sealer.Seal(_data.AsSpan(i * FrameSize, FrameSize), SealKind.Frame);
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _sealer.Dispose();

    [Benchmark]
    [BytesPerOperation(Size)]
    public byte Seal()
    {
        for (var i = 0; i < Frames; i++)
        {
            _sealer.Seal(_data.AsSpan(i * FrameSize, FrameSize), _sealedFrame, SealKind.Frame);
        }

        return _sealedFrame[0];
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public bool Open()
    {
        var ok = true;
        for (var i = 0; i < Frames; i++)
        {
            ok &= _sealer.TryOpen(_sealed[i], _opened, SealKind.Frame);
        }

        return ok;
    }
}

/// <summary>
/// One worker's per-frame work without hashing and packing: <see cref="ObjectCodec.Encode(ReadOnlySpan{byte}, bool, SealKind, ref byte[], out bool)"/>
/// (zstd level 3, the 97 % rule, AES-256-GCM seal) on 128 KiB frames.
/// </summary>
[Config(typeof(QuickConfig))]
public class FrameBenchmarks
{
    private const int FrameSize = 128 * 1024;
    private const int Size = 16 * 1024 * 1024;
    private byte[] _data = [];
    private byte[] _output = [];
    private Sealer _sealer = null!;
    private ObjectCodec _codec = null!;

    [Params(DataSet.Pgbench, DataSet.Realistic)]
    public DataSet Data { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = DataSets.Generate(Data, Size);
        _sealer = Sealer.Encrypted(Keys.Derive("enc"));
        _codec = new ObjectCodec(_sealer, CompressionBenchmarks.Level);
        _output = new byte[FrameSize * 2];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _codec.Dispose();
        _sealer.Dispose();
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public long EncodeFrame()
    {
        long total = 0;
        for (var offset = 0; offset < Size; offset += FrameSize)
        {
            total += _codec.Encode(_data.AsSpan(offset, FrameSize), compress: true, SealKind.Frame, ref _output, out _);
        }

        return total;
    }
}
