using System.Globalization;
using System.Text;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Lifeboat.Repository.Compression;

namespace Lifeboat.Benchmarks;

/// <summary>
/// Modes:
/// <list type="bullet">
/// <item><c>gen pgbench|realistic FILE MIB</c>: writes a data set (deterministic).</item>
/// <item><c>pipeline FILE [--chunking cdc|blocks] [--runs N] [--workers N] [--discard-packs] [--memory] [--dir D]</c>: stores FILE
/// through RepositoryWriter into a fresh repository N times (plus one warm-up) and prints MB/s and the median.</item>
/// <item><c>ratios</c>: compression ratios and CPU-time speeds of libzstd and ZstdSharp at level 3 on 128 KiB frames.</item>
/// <item><c>stages</c>: the CPU cost of every stage of the data path on one thread (thread CPU clock, stages alternating).</item>
/// <item>anything else: the BenchmarkDotNet suite (e.g. <c>--filter '*'</c>, <c>--list flat</c>), then a Markdown summary.</item>
/// </list>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "gen")
        {
            if (args.Length != 4)
            {
                Console.Error.WriteLine("usage: gen pgbench|realistic FILE MIB");
                return 2;
            }

            DataSets.WriteFile(DataSets.Parse(args[1]), args[2], long.Parse(args[3], CultureInfo.InvariantCulture) * 1024 * 1024);
            return 0;
        }

        if (args.Length > 0 && args[0] == "pipeline")
        {
            return await PipelineMainAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "ratios")
        {
            Console.Write(RatiosMarkdown());
            return 0;
        }

        if (args.Length > 0 && args[0] == "stages")
        {
            Console.Write(StagesMarkdown());
            return 0;
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
        if (summaries.Count == 0 || summaries.All(s => s.Reports.IsEmpty))
        {
            return summaries.Count == 0 ? 0 : 1;
        }

        var markdown = SummaryMarkdown(summaries) + StagesMarkdown() + RatiosMarkdown();
        Console.WriteLine();
        Console.Write(markdown);
        var artifacts = summaries[0].ResultsDirectoryPath;
        var path = Path.Combine(artifacts, "lifeboat-summary.md");
        File.WriteAllText(path, markdown);
        Console.WriteLine($"written to {path}");
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static async Task<int> PipelineMainAsync(string[] args)
    {
        string? file = null;
        var chunking = Chunking.Cdc;
        var runs = 5;
        var workers = 2;
        var discard = false;
        var memory = false;
        string? dir = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--chunking":
                    chunking = Enum.Parse<Chunking>(args[++i], ignoreCase: true);
                    break;
                case "--runs":
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--workers":
                    workers = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--discard-packs":
                    discard = true;
                    break;
                case "--memory":
                    memory = true;
                    break;
                case "--dir":
                    dir = args[++i];
                    break;
                default:
                    if (file is not null || args[i].StartsWith('-'))
                    {
                        Console.Error.WriteLine($"unknown argument {args[i]}");
                        return 2;
                    }

                    file = args[i];
                    break;
            }
        }

        if (file is null)
        {
            Console.Error.WriteLine("usage: pipeline FILE [--chunking cdc|blocks] [--runs N] [--workers N] [--discard-packs] [--memory] [--dir D]");
            return 2;
        }

        return await Pipeline.RunFileAsync(file, chunking, runs, workers, discard, memory, dir);
    }

    /// <summary>MB/s of every benchmark, then native / managed zstd speed ratios.</summary>
    private static string SummaryMarkdown(List<Summary> summaries)
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Throughput (input MB/s, 10^6 bytes/s, from the median time)").AppendLine();
        sb.AppendLine("| benchmark | parameters | median | MB/s |").AppendLine("|---|---|---:|---:|");
        var speeds = new Dictionary<string, double>();
        foreach (var summary in summaries)
        {
            foreach (var report in summary.Reports)
            {
                var bench = report.BenchmarkCase;
                var name = bench.Descriptor.Type.Name.Replace("Benchmarks", string.Empty, StringComparison.Ordinal) + "." + bench.Descriptor.WorkloadMethod.Name;
                var parameters = bench.Parameters.PrintInfo;
                var mbps = ThroughputColumn.Of(summary, bench);
                var median = report.ResultStatistics?.Median;
                sb.Append("| ").Append(name).Append(" | ").Append(parameters).Append(" | ")
                    .Append(median is { } m ? FormatTime(m) : "-").Append(" | ")
                    .Append(mbps is { } v ? v.ToString("F0", CultureInfo.InvariantCulture) : "-").AppendLine(" |");
                if (mbps is { } speed)
                {
                    speeds[name + "|" + parameters] = speed;
                }
            }
        }

        var ratios = new StringBuilder();
        foreach (var (key, native) in speeds)
        {
            if (!key.Contains("_Native", StringComparison.Ordinal) || !speeds.TryGetValue(key.Replace("_Native", "_ZstdSharp", StringComparison.Ordinal), out var managed))
            {
                continue;
            }

            var parts = key.Split('|');
            ratios.Append("| ").Append(parts[0].Replace("_Native", string.Empty, StringComparison.Ordinal)).Append(" | ").Append(parts[1]).Append(" | ")
                .Append(native.ToString("F0", CultureInfo.InvariantCulture)).Append(" | ")
                .Append(managed.ToString("F0", CultureInfo.InvariantCulture)).Append(" | ")
                .Append((native / managed).ToString("F2", CultureInfo.InvariantCulture)).AppendLine(" |");
        }

        if (ratios.Length > 0)
        {
            sb.AppendLine().AppendLine("## libzstd (P/Invoke) vs ZstdSharp.Port, level 3, 128 KiB frames").AppendLine();
            sb.AppendLine("| operation | parameters | native MB/s | ZstdSharp MB/s | native / managed |").AppendLine("|---|---|---:|---:|---:|");
            sb.Append(ratios);
        }

        return sb.AppendLine().ToString();
    }

    private static string StagesMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine("## Per-stage cost, single thread, CPU time (stages alternate pass by pass; median of 9 × 16 MiB)").AppendLine();
        sb.AppendLine("| stage | data set | MB/s of CPU time | ns per byte |").AppendLine("|---|---|---:|---:|");
        foreach (var row in StageCpu.Measure())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {row.Stage} | {row.Data} | {row.MBps:F0} | {1000 / row.MBps:F2} |");
        }

        return sb.AppendLine().ToString();
    }

    private static string RatiosMarkdown()
    {
        var sb = new StringBuilder();
        var version = ZstdCodec.LibraryVersion;
        sb.AppendLine(CultureInfo.InvariantCulture, $"## Compression ratio, level 3 (libzstd {version / 10000}.{version / 100 % 100}.{version % 100}, ZstdSharp.Port 0.8.8), 64 MiB per data set").AppendLine();
        sb.AppendLine("| data set | libzstd, 128 KiB frames | ZstdSharp, 128 KiB frames | identical output | libzstd, one 64 MiB frame |").AppendLine("|---|---:|---:|---|---:|");
        foreach (var row in CompressionRatios.Measure())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {row.Data} | {row.Native:F2} | {row.Managed:F2} | {(row.Identical ? "yes" : "no")} | {row.WholeBuffer:F2} |");
        }

        sb.AppendLine().AppendLine("## libzstd vs ZstdSharp, level 3, 128 KiB frames, single thread, CPU time (alternating passes, median of 15 × 16 MiB)").AppendLine();
        sb.AppendLine("| data set | operation | libzstd MB/s | ZstdSharp MB/s | libzstd / ZstdSharp |").AppendLine("|---|---|---:|---:|---:|");
        foreach (var row in CompressionRatios.MeasureSpeed())
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {row.Data} | {row.Operation} | {row.NativeMBps:F0} | {row.ManagedMBps:F0} | {row.NativeMBps / row.ManagedMBps:F2} |");
        }

        return sb.AppendLine().ToString();
    }

    private static string FormatTime(double nanoseconds) => nanoseconds switch
    {
        >= 1e9 => (nanoseconds / 1e9).ToString("F3", CultureInfo.InvariantCulture) + " s",
        >= 1e6 => (nanoseconds / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " ms",
        _ => (nanoseconds / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " µs",
    };
}
