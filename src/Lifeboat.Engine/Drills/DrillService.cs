using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Drills;

public sealed record DrillRequest
{
    public required string SourceName { get; init; }

    /// <summary>Drill this backup (a cluster: recovered to its counted point, or just consistent).</summary>
    public string? BackupId { get; init; }

    /// <summary>Recover to this time (a files source: the latest backup that finished before it).</summary>
    public string? TargetTime { get; init; }

    /// <summary>A random time inside the recoverable window (a files source: a random backup).</summary>
    public bool RandomPoint { get; init; }

    /// <summary>Stop and fail after this long (default Drill:Timeout).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Lower this process's own CPU and I/O priority (the CLI, whose process does nothing else).</summary>
    public bool LowerProcessPriority { get; init; }
}

/// <summary>A drill whose checks failed (not retried by schedules: the failure is the finding).</summary>
public sealed class DrillFailedException(string message) : LifeboatException(ErrorCode.Failed, message, "open the drill's HTML report for every check and its evidence");

/// <summary>
/// `lifeboat drill`: restores a backup into a scratch copy, checks it, measures the RTO and RPO against the source's
/// objectives, and keeps the evidence (HTML and JSON reports, the catalog's drills table, the run history). A drill
/// that fails a check returns a failed report (it is a result, not an error); bad input throws (exit 2); an
/// interruption cleans up, records the drill as cancelled and rethrows.
/// </summary>
public static partial class DrillService
{
    public static async Task<DrillReport> RunAsync(EngineContext context, DrillRequest request, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var given = (request.BackupId is null ? 0 : 1) + (request.TargetTime is null ? 0 : 1) + (request.RandomPoint ? 1 : 0);
        if (given > 1)
        {
            throw new LifeboatException(ErrorCode.Usage, "give at most one of --backup, --target-time and --random-point", "without any, the drill restores the latest backup and recovers to the end of the archived WAL");
        }

        var targetTime = request.TargetTime is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.TargetTime, "--target-time");
        var source = context.GetSource(request.SourceName);
        var options = context.Options.Drill;
        var timeout = request.Timeout ?? options.Timeout;
        if (timeout <= TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Usage, $"--timeout {timeout} is not a positive duration", "for example --timeout 00:30:00");
        }

        var started = context.Time.GetUtcNow();
        var report = new DrillReport(NewId(started), request.SourceName, source.Kind, started)
        {
            Requested = request.BackupId is not null ? "backup" : targetTime is not null ? "time" : request.RandomPoint ? "random-point" : "latest",
            RtoObjective = source.Rto,
            RpoObjective = source.Rpo ?? (source.Kind == SourceKinds.Cluster ? TimeSpan.FromMinutes(5) : null),
        };
        if (request.LowerProcessPriority && options.LowPriority)
        {
            report.Note("priority of " + LowPriority.LowerCurrentProcess());
        }

        using var timeLimit = new CancellationTokenSource(timeout, context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeLimit.Token);
        var plan = new DrillPlan(request.BackupId, targetTime, request.RandomPoint, timeout);
        try
        {
            if (source.Kind == SourceKinds.Cluster)
            {
                await new ClusterDrill(context, request.SourceName, source, plan, report, progress).RunAsync(linked.Token);
            }
            else
            {
                await new FilesDrill(context, request.SourceName, source, plan, report, progress).RunAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (timeLimit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            report.Add(new DrillCheck("time limit", CheckStatus.Failed, $"the drill did not finish within {DrillReport.Seconds(timeout)} (--timeout, Drill:Timeout): it was stopped and its scratch copy removed"));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Cancelled = true;
            await FinishAsync(context, report, options);
            throw;
        }
        catch (LifeboatException ex) when (ex.ExitCode != ErrorCode.Usage.ToExitCode())
        {
            if (ex is DamageException damage)
            {
                report.DamagedObjects = damage.DamagedObjects;
                report.AffectedBackups = damage.AffectedBackups;
            }

            report.Add(new DrillCheck("drill", CheckStatus.Failed, ex.Message + (ex.Hint is null ? "" : "\nhint: " + ex.Hint)));
        }

        await FinishAsync(context, report, options);
        return report;
    }

    /// <summary>Judges the objectives, writes the reports and records the drill (catalog: drills table and run history).</summary>
    private static async Task FinishAsync(EngineContext context, DrillReport report, DrillOptions options)
    {
        if (!report.Cancelled)
        {
            report.Add(Objective("RTO objective", report.Rto, report.RtoObjective, true, $"Sources:{report.Source}:Rto"));
            report.Add(Objective("RPO objective", report.Rpo, report.RpoObjective, report.RpoJudged, $"Sources:{report.Source}:Rpo"));
        }

        report.Finished = context.Time.GetUtcNow();
        var directory = Path.Combine(options.ReportsDirectory is { } d ? context.ResolvePath(d) : Path.Combine(context.StateDirectory, "drills"), report.Source);
        var logger = context.LoggerFactory.CreateLogger("Lifeboat.Drills");
        try
        {
            Directory.CreateDirectory(directory);
            report.HtmlPath = Path.Combine(directory, report.Id + ".html");
            report.JsonPath = Path.Combine(directory, report.Id + ".json");
            report.Summary = report.BuildSummary();
            WriteAtomically(report.JsonPath, report.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            WriteAtomically(report.HtmlPath, DrillHtml.Render(report));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogReportNotWritten(logger, directory, ex.Message);
            report.Note($"the reports could not be written to {directory}: {ex.Message}");
            report.HtmlPath = report.JsonPath = null;
            report.Summary = report.BuildSummary();
        }

        var json = report.ToJson().ToJsonString();
        try
        {
            var catalog = await context.OpenCatalogAsync(CancellationToken.None);
            await catalog.RecordDrillAsync(report.ToRecord(json), CancellationToken.None);
            await catalog.RecordRunAsync(new RunRecord
            {
                Id = report.Id,
                Kind = JobKinds.Drill,
                Source = report.Source,
                Status = report.Cancelled ? RunStatus.Cancelled : report.Passed ? RunStatus.Succeeded : RunStatus.Failed,
                Started = report.Started,
                Finished = report.Finished,
                BackupId = report.BackupId,
                Error = report.Passed ? null : report.Summary,
                Metadata = new System.Text.Json.Nodes.JsonObject { ["drill"] = report.Id, ["rtoSeconds"] = report.Rto?.TotalSeconds, ["restorable"] = report.Restorable }.ToJsonString(),
            }, CancellationToken.None);
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogNotRecorded(logger, ex.Message);
            report.Note("the drill could not be recorded in the catalog: " + ex.Message);
        }
    }

    private static DrillCheck Objective(string name, TimeSpan? measured, TimeSpan? objective, bool judged, string setting)
    {
        if (objective is not { } o)
        {
            return new DrillCheck(name, CheckStatus.Skipped, $"no objective is set ({setting})");
        }

        if (!judged)
        {
            return new DrillCheck(name, CheckStatus.Skipped, $"not judged: the drill did not recover to the end of the archive (objective {DrillReport.Seconds(o)})");
        }

        if (measured is not { } m)
        {
            return new DrillCheck(name, CheckStatus.Skipped, $"not measured: the drill did not get that far (objective {DrillReport.Seconds(o)})");
        }

        return m > o
            ? new DrillCheck(name, CheckStatus.Failed, $"VIOLATED: measured {DrillReport.Seconds(m)}, objective {DrillReport.Seconds(o)} ({setting})")
            : new DrillCheck(name, CheckStatus.Passed, $"met: measured {DrillReport.Seconds(m)}, objective {DrillReport.Seconds(o)}");
    }

    /// <summary>Drill ids look like backup ids (UTC start time and a fraction) with two random hex digits: they sort by time.</summary>
    private static string NewId(DateTimeOffset started) => BackupId.New(started) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(1));

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            using var writer = new StreamWriter(stream);
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "The drill reports could not be written to {Directory}: {Error}")]
    private static partial void LogReportNotWritten(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "The drill was not recorded in the catalog: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string error);
}

/// <summary>What the drill was asked to restore.</summary>
internal sealed record DrillPlan(string? BackupId, DateTimeOffset? TargetTime, bool RandomPoint, TimeSpan Timeout)
{
    /// <summary>A random fraction in (0, 1].</summary>
    public static double RandomFraction() => RandomNumberGenerator.GetInt32(1, 1_000_001) / 1_000_000.0;
}
