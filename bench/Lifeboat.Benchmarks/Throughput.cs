using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Lifeboat.Benchmarks;

/// <summary>The input bytes one invocation of the benchmark method processes; the MB/s column divides it by the mean time.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BytesPerOperationAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}

/// <summary>Input throughput in MB/s (10^6 bytes per second) from <see cref="BytesPerOperationAttribute"/> and the mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    public static readonly ThroughputColumn Instance = new();

    public string Id => "Lifeboat.MBps";

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input throughput: bytes processed per operation / median time, in 10^6 bytes per second";

    public static long? BytesOf(BenchmarkCase benchmarkCase)
        => benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerOperationAttribute>()?.Bytes;

    /// <summary>MB/s of a finished benchmark, or null when it has no byte count or did not run.</summary>
    public static double? Of(Summary summary, BenchmarkCase benchmarkCase)
    {
        var bytes = BytesOf(benchmarkCase);
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (bytes is null || stats is null || stats.Median <= 0)
        {
            return null;
        }

        // Median rather than mean: a 2-core VM has noisy neighbours and the odd slow iteration.
        return bytes.Value / (stats.Median / 1e9) / 1e6;
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => Of(summary, benchmarkCase) is { } v ? v.ToString("F0") : "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

/// <summary>
/// The suite's default job: short enough that every benchmark together runs in a few minutes on a 2-core machine
/// (1 launch, 2 warm-up and 5 measured iterations), with the MB/s column and the median.
/// </summary>
public sealed class QuickConfig : ManualConfig
{
    public QuickConfig()
    {
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithId("Quick"));
        AddColumn(ThroughputColumn.Instance, StatisticColumn.Median);
    }
}
