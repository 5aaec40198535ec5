using BenchmarkDotNet.Attributes;
using Lifeboat.Repository.Compression;
using ZstdSharp;

namespace Lifeboat.Benchmarks;

/// <summary>
/// zstd level 3 on 128 KiB frames (the repository's frame size): the system's libzstd through P/Invoke
/// (<see cref="ZstdCodec"/>, what Lifeboat uses) against the managed ZstdSharp.Port. Throughput is of the
/// uncompressed bytes, both ways. The compression ratios are printed after the run (<see cref="CompressionRatios"/>).
/// </summary>
[Config(typeof(QuickConfig))]
public class CompressionBenchmarks
{
    public const int FrameSize = 128 * 1024;
    public const int Level = 3;
    private const int Size = 16 * 1024 * 1024;
    private const int Frames = Size / FrameSize;
    private const int LargeFrame = 1024 * 1024;
    private byte[] _data = [];
    private byte[] _large = [];
    private byte[] _output = [];
    private byte[][] _nativeFrames = [];
    private byte[][] _managedFrames = [];
    private ZstdCodec _native = null!;
    private Compressor _compressor = null!;
    private Decompressor _decompressor = null!;

    [Params(DataSet.Pgbench, DataSet.Realistic)]
    public DataSet Data { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = DataSets.Generate(Data, Size);
        _native = new ZstdCodec();
        _compressor = new Compressor(Level);
        _decompressor = new Decompressor();
        _output = new byte[Math.Max(ZstdCodec.MaxCompressedLength(FrameSize), FrameSize)];
        _large = new byte[ZstdCodec.MaxCompressedLength(LargeFrame)];
        _nativeFrames = new byte[Frames][];
        _managedFrames = new byte[Frames][];
        for (var i = 0; i < Frames; i++)
        {
            var frame = Frame(i);
            var n = _native.Compress(frame, _output, Level);
            _nativeFrames[i] = _output.AsSpan(0, n).ToArray();
            _managedFrames[i] = _compressor.Wrap(frame).ToArray();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _native.Dispose();
        _compressor.Dispose();
        _decompressor.Dispose();
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public long Compress_Native()
    {
        long total = 0;
        for (var i = 0; i < Frames; i++)
        {
            total += _native.Compress(Frame(i), _output, Level);
        }

        return total;
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public long Compress_ZstdSharp()
    {
        long total = 0;
        for (var i = 0; i < Frames; i++)
        {
            total += _compressor.Wrap(Frame(i), _output);
        }

        return total;
    }

    /// <summary>libzstd on 1 MiB frames: a CDC chunk (256 KiB to 4 MiB, about 1 MiB) is a frame of its own.</summary>
    [Benchmark]
    [BytesPerOperation(Size)]
    public long Compress_Native_1MiBFrames()
    {
        long total = 0;
        for (var offset = 0; offset < Size; offset += LargeFrame)
        {
            total += _native.Compress(_data.AsSpan(offset, LargeFrame), _large, Level);
        }

        return total;
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public bool Decompress_Native()
    {
        var ok = true;
        for (var i = 0; i < Frames; i++)
        {
            ok &= _native.TryDecompress(_nativeFrames[i], _output.AsSpan(0, FrameSize));
        }

        return ok;
    }

    [Benchmark]
    [BytesPerOperation(Size)]
    public long Decompress_ZstdSharp()
    {
        long total = 0;
        for (var i = 0; i < Frames; i++)
        {
            total += _decompressor.Unwrap(_managedFrames[i], _output);
        }

        return total;
    }

    private ReadOnlySpan<byte> Frame(int i) => _data.AsSpan(i * FrameSize, FrameSize);
}

/// <summary>Compression ratios of both codecs at level 3 on 128 KiB frames, and of whole-buffer zstd for reference.</summary>
public static class CompressionRatios
{
    public sealed record Speed(DataSet Data, string Operation, double NativeMBps, double ManagedMBps);

    /// <summary>
    /// Native and managed zstd, alternating pass by pass on the same thread, timed with the thread's CPU clock: a
    /// comparison that background load on a shared machine does not skew (it slows both sides alike and is not counted).
    /// Medians of <paramref name="passes"/> passes over 16 MiB in 128 KiB frames.
    /// </summary>
    public static List<Speed> MeasureSpeed(int passes = 15)
    {
        const int size = 16 * 1024 * 1024;
        const int frame = CompressionBenchmarks.FrameSize;
        var rows = new List<Speed>();
        foreach (var kind in Enum.GetValues<DataSet>())
        {
            var data = DataSets.Generate(kind, size);
            using var native = new ZstdCodec();
            using var compressor = new Compressor(CompressionBenchmarks.Level);
            using var decompressor = new Decompressor();
            var output = new byte[ZstdCodec.MaxCompressedLength(frame)];
            var plain = new byte[frame];
            var frames = new byte[size / frame][];
            for (var i = 0; i < frames.Length; i++)
            {
                frames[i] = compressor.Wrap(data.AsSpan(i * frame, frame)).ToArray();
            }

            var times = new List<double>[4];
            for (var k = 0; k < times.Length; k++)
            {
                times[k] = [];
            }

            for (var pass = 0; pass <= passes; pass++)
            {
                var t0 = ThreadCpu.Seconds();
                for (var i = 0; i < frames.Length; i++)
                {
                    native.Compress(data.AsSpan(i * frame, frame), output, CompressionBenchmarks.Level);
                }

                var t1 = ThreadCpu.Seconds();
                for (var i = 0; i < frames.Length; i++)
                {
                    compressor.Wrap(data.AsSpan(i * frame, frame), output);
                }

                var t2 = ThreadCpu.Seconds();
                for (var i = 0; i < frames.Length; i++)
                {
                    native.TryDecompress(frames[i], plain);
                }

                var t3 = ThreadCpu.Seconds();
                for (var i = 0; i < frames.Length; i++)
                {
                    decompressor.Unwrap(frames[i], plain);
                }

                var t4 = ThreadCpu.Seconds();
                if (pass > 0)
                {
                    times[0].Add(t1 - t0);
                    times[1].Add(t2 - t1);
                    times[2].Add(t3 - t2);
                    times[3].Add(t4 - t3);
                }
            }

            rows.Add(new Speed(kind, "compress", size / Median(times[0]) / 1e6, size / Median(times[1]) / 1e6));
            rows.Add(new Speed(kind, "decompress", size / Median(times[2]) / 1e6, size / Median(times[3]) / 1e6));
        }

        return rows;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    public sealed record Row(DataSet Data, double Native, double Managed, double WholeBuffer, bool Identical);

    public static List<Row> Measure(int size = 64 * 1024 * 1024)
    {
        var rows = new List<Row>();
        foreach (var kind in Enum.GetValues<DataSet>())
        {
            var data = DataSets.Generate(kind, size);
            using var native = new ZstdCodec();
            using var compressor = new Compressor(CompressionBenchmarks.Level);
            var output = new byte[ZstdCodec.MaxCompressedLength(size)];
            long nativeBytes = 0;
            long managedBytes = 0;
            var identical = true;
            var managedOutput = new byte[output.Length];
            for (var offset = 0; offset < size; offset += CompressionBenchmarks.FrameSize)
            {
                var frame = data.AsSpan(offset, Math.Min(CompressionBenchmarks.FrameSize, size - offset));
                var n = native.Compress(frame, output, CompressionBenchmarks.Level);
                var m = compressor.Wrap(frame, managedOutput);
                nativeBytes += n;
                managedBytes += m;
                identical &= output.AsSpan(0, n).SequenceEqual(managedOutput.AsSpan(0, m));
            }

            var whole = native.Compress(data, output, CompressionBenchmarks.Level);
            rows.Add(new Row(kind, (double)size / nativeBytes, (double)size / managedBytes, (double)size / whole, identical));
        }

        return rows;
    }
}
