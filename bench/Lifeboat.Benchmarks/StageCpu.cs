using System.Security.Cryptography;
using Lifeboat.Repository.Chunking;
using Lifeboat.Repository.Compression;
using Lifeboat.Repository.Crypto;
using ZstdSharp;

namespace Lifeboat.Benchmarks;

/// <summary>
/// Every stage of the data path on one thread, timed with the thread's CPU clock and run in alternation (pass 1 of every
/// stage, then pass 2 of every stage, …), so that background load on a shared machine neither slows one stage more than
/// another nor counts in the figures. This is the cost of each stage per input byte; the BenchmarkDotNet suite gives
/// the same stages in wall-clock time.
/// </summary>
public static class StageCpu
{
    public const int Size = 16 * 1024 * 1024;
    private const int Frame = 128 * 1024;
    private const int Large = 1024 * 1024;

    public sealed record Row(string Stage, DataSet Data, double MBps);

    public static List<Row> Measure(int passes = 9)
    {
        var stages = new List<(string Stage, DataSet Data, Action Run)>();
        var disposables = new List<IDisposable>();
        foreach (var kind in Enum.GetValues<DataSet>())
        {
            var data = DataSets.Generate(kind, Size);
            var cdc = new FastCdc(Keys.Derive("chunker"), ChunkerSizes.Data);
            var hasher = new ChunkHasher(Keys.Derive("id"));
            var native = new ZstdCodec();
            var compressor = new Compressor(CompressionBenchmarks.Level);
            var sealer = Sealer.Encrypted(Keys.Derive("enc"));
            var codec = new ObjectCodec(sealer, CompressionBenchmarks.Level);
            disposables.AddRange([hasher, native, compressor, sealer, codec]);
            var output = new byte[ZstdCodec.MaxCompressedLength(Large) + 64];
            var copy = new byte[Size];
            var digest = new byte[32];
            if (kind == DataSet.Realistic)
            {
                // Content-independent stages: measured once.
                stages.Add(("memcpy (baseline)", kind, () => data.AsSpan().CopyTo(copy)));
                stages.Add(("HMAC-SHA256 chunk id, 8 KiB blocks", kind, () => Blocks(data, 8192, b => hasher.Compute(b))));
                stages.Add(("HMAC-SHA256 chunk id, 1 MiB chunks", kind, () => Blocks(data, Large, b => hasher.Compute(b))));
                stages.Add(("SHA-256, 1 MiB", kind, () => Blocks(data, Large, b => SHA256.HashData(b, digest))));
                stages.Add(("AES-256-GCM seal, 128 KiB frames", kind, () => Blocks(data, Frame, b => sealer.Seal(b, output.AsSpan(0, b.Length + sealer.Overhead), SealKind.Frame))));
            }

            stages.Add(("FastCDC cut (256K/1M/4M)", kind, () =>
            {
                var rest = data.AsSpan();
                while (!rest.IsEmpty)
                {
                    rest = rest[cdc.Cut(rest, isFinal: true)..];
                }
            }));
            stages.Add(("zstd -3 libzstd, 128 KiB frames", kind, () => Blocks(data, Frame, b => native.Compress(b, output, CompressionBenchmarks.Level))));
            stages.Add(("zstd -3 libzstd, 1 MiB frames", kind, () => Blocks(data, Large, b => native.Compress(b, output, CompressionBenchmarks.Level))));
            stages.Add(("zstd -3 ZstdSharp, 128 KiB frames", kind, () => Blocks(data, Frame, b => compressor.Wrap(b, output))));
            stages.Add(("frame encode (zstd + seal), 128 KiB", kind, () =>
            {
                for (var offset = 0; offset < Size; offset += Frame)
                {
                    codec.Encode(data.AsSpan(offset, Frame), compress: true, SealKind.Frame, ref output, out _);
                }
            }));
        }

        var times = stages.Select(_ => new List<double>()).ToArray();
        for (var pass = 0; pass <= passes; pass++)
        {
            for (var s = 0; s < stages.Count; s++)
            {
                var t0 = ThreadCpu.Seconds();
                stages[s].Run();
                var t1 = ThreadCpu.Seconds();
                if (pass > 0)
                {
                    times[s].Add(t1 - t0);
                }
            }
        }

        foreach (var d in disposables)
        {
            d.Dispose();
        }

        return stages.Select((s, i) => new Row(s.Stage, s.Data, Size / Median(times[i]) / 1e6)).ToList();
    }

    private static void Blocks(byte[] data, int block, Action<ReadOnlySpan<byte>> action)
    {
        for (var offset = 0; offset < data.Length; offset += block)
        {
            action(data.AsSpan(offset, Math.Min(block, data.Length - offset)));
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }
}
