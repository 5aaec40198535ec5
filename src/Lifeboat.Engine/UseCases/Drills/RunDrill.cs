using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Sources;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.UseCases.Drills;

/// <param name="Backup">Drill this backup (a cluster: recovered to its counted point, or just consistent).</param>
/// <param name="TargetTime">Recover to this time (a files source: the latest backup that finished before it).</param>
/// <param name="RandomPoint">A random time inside the recoverable window (a files source: a random backup).</param>
/// <param name="Timeout">Stop and fail after this long (default Drill:Timeout): 00:30:00, 90s, 45m, 2h.</param>
/// <param name="LowerProcessPriority">Lower this process's own CPU and I/O priority (the CLI, whose process does nothing else).</param>
public sealed record RunDrillRequest(string Source, string? Backup = null, string? TargetTime = null, bool RandomPoint = false, string? Timeout = null, bool LowerProcessPriority = false);

/// <summary>
/// `lifeboat drill`: restores a backup into a scratch copy, checks it, measures the RTO and RPO against the source's
/// objectives, and keeps the evidence (HTML and JSON reports, the catalog's drills table, the run history). A drill
/// that fails a check returns a failed report (it is a result, not an error); bad input throws (exit 2); an
/// interruption cleans up, records the drill as cancelled and rethrows.
/// </summary>
public sealed partial class RunDrill : IUseCase<RunDrillRequest, DrillDocument>, IAdmitsJobs<RunDrillRequest>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly SourceHandlers _handlers;
    private readonly CatalogAccess _catalog;
    private readonly Runs _runs;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly CallContext _call;
    private readonly OperationLocks _locks;

    public RunDrill(Workspace workspace, RepositoryOpener opener, SourceHandlers handlers, CatalogAccess catalog, Runs runs, TimeProvider time, ILoggerFactory loggers, CallContext call, OperationLocks locks)
    {
        _locks = locks;
        _workspace = workspace;
        _opener = opener;
        _handlers = handlers;
        _catalog = catalog;
        _runs = runs;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<RunDrill>();
        _call = call;
    }

    /// <summary>
    /// Refuses at once a drill of a source another operation holds. A drill reads the repository into a scratch copy
    /// and never writes the source: maintenance mode does not refuse it (the scheduler skips scheduled drills of a
    /// source in maintenance all the same).
    /// </summary>
    public Task AdmitAsync(RunDrillRequest request, CancellationToken cancellationToken)
    {
        if (request.Source is not null && _workspace.Options.Sources.ContainsKey(request.Source))
        {
            _locks.EnsureFree(request.Source);
        }

        return Task.CompletedTask;
    }

    public async Task<DrillDocument> ExecuteAsync(RunDrillRequest request, CancellationToken cancellationToken)
    {
        var given = (request.Backup is null ? 0 : 1) + (request.TargetTime is null ? 0 : 1) + (request.RandomPoint ? 1 : 0);
        if (given > 1)
        {
            throw new LifeboatException(ErrorCode.Usage, "give at most one of «backup», «targetTime» and «randomPoint»", "without any, the drill restores the latest backup and recovers to the end of the archived WAL");
        }

        var targetTime = request.TargetTime is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.TargetTime, FieldText.Ref("targetTime"));
        var source = _workspace.GetSource(request.Source);
        var options = _workspace.Options.Drill;
        var timeout = request.Timeout is { } t ? Duration.Parse(t, FieldText.Ref("timeout")) : options.Timeout;
        if (timeout <= TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«timeout» {request.Timeout} is not a positive duration", "for example «timeout» 00:30:00");
        }

        using var held = _locks.Hold(request.Source, "drill");
        var started = _time.GetUtcNow();
        var report = new DrillReport(NewId(started), request.Source, source.Kind, started)
        {
            Requested = request.Backup is not null ? "backup" : targetTime is not null ? "time" : request.RandomPoint ? "random-point" : "latest",
            RtoObjective = source.Rto,
            RpoObjective = source.Rpo ?? (source is ClusterSourceOptions ? TimeSpan.FromMinutes(5) : null),
        };
        if (request.LowerProcessPriority && options.LowPriority)
        {
            report.Note("priority of " + LowPriority.LowerCurrentProcess());
        }

        using var timeLimit = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeLimit.Token);
        var plan = new DrillPlan(request.Backup, targetTime, request.RandomPoint, timeout);
        var progress = new Progress<string>(step => _call.Report(new ProgressUpdate("drill", step, Step: true)));
        try
        {
            var environment = new DrillEnvironment(_workspace, _opener, _time, _loggers);
            await _handlers.For(source).DrillAsync(request.Source, source, environment, plan, report, progress, linked.Token);
        }
        catch (OperationCanceledException) when (timeLimit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            report.Add(new DrillCheck("time limit", DrillCheckStatus.Failed, $"the drill did not finish within {DrillReport.Seconds(timeout)} (--timeout, Drill:Timeout): it was stopped and its scratch copy removed"));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            report.Cancelled = true;
            await FinishAsync(report, options);
            throw;
        }
        catch (LifeboatException ex) when (ex.ExitCode != ErrorCode.Usage.ToExitCode())
        {
            if (ex is DamageException damage)
            {
                report.DamagedObjects = damage.DamagedObjects;
                report.AffectedBackups = damage.AffectedBackups;
            }

            report.Add(new DrillCheck("drill", DrillCheckStatus.Failed, ex.Message + (ex.Hint is null ? "" : "\nhint: " + ex.Hint)));
        }

        await FinishAsync(report, options);
        return report.ToDocument();
    }

    /// <summary>Judges the objectives, writes the reports and records the drill (catalog: drills table and run history).</summary>
    private async Task FinishAsync(DrillReport report, DrillOptions options)
    {
        if (!report.Cancelled)
        {
            report.Add(Objective("RTO objective", report.Rto, report.RtoObjective, true, $"Sources:{report.Source}:Rto"));
            report.Add(Objective("RPO objective", report.Rpo, report.RpoObjective, report.RpoJudged, $"Sources:{report.Source}:Rpo"));
        }

        report.Finished = _time.GetUtcNow();
        var directory = Path.Combine(options.ReportsDirectory is { } d ? _workspace.ResolvePath(d) : Path.Combine(_workspace.StateDirectory, "drills"), report.Source);
        var logger = _logger;
        try
        {
            Directory.CreateDirectory(directory);
            report.HtmlPath = Path.Combine(directory, report.Id + ".html");
            report.JsonPath = Path.Combine(directory, report.Id + ".json");
            report.Summary = report.BuildSummary();
            WriteAtomically(report.JsonPath, JsonSerializer.Serialize(report.ToDocument(), LifeboatJson.Default.DrillDocument) + "\n");
            WriteAtomically(report.HtmlPath, DrillHtml.Render(report));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogReportNotWritten(logger, directory, ex.Message);
            report.Note($"the reports could not be written to {directory}: {ex.Message}");
            report.HtmlPath = report.JsonPath = null;
            report.Summary = report.BuildSummary();
        }

        var json = JsonSerializer.Serialize(report.ToDocument(), LifeboatJson.Compact.DrillDocument);
        try
        {
            var catalog = await _catalog.OpenAsync(CancellationToken.None);
            await catalog.RecordDrillAsync(report.ToRecord(json), CancellationToken.None);
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogNotRecorded(logger, ex.Message);
            report.Note("the drill could not be recorded in the catalog: " + ex.Message);
        }

        await _runs.FinishedAsync(
            new RunInfo(RunOperations.Drill, JobKinds.Drill, report.Source, Id: report.Id),
            report.Started,
            report.Cancelled ? RunStatus.Cancelled : report.Passed ? RunStatus.Succeeded : RunStatus.Failed,
            new RunFigures(0, 0, report.BackupId, JsonSerializer.Serialize(new DrillRunMetadata(report.Id, report.Rto?.TotalSeconds, report.Restorable), LifeboatJson.Default.DrillRunMetadata)),
            report.Passed ? null : report.Summary,
            CancellationToken.None);
    }

    private static DrillCheck Objective(string name, TimeSpan? measured, TimeSpan? objective, bool judged, string setting)
    {
        if (objective is not { } o)
        {
            return new DrillCheck(name, DrillCheckStatus.Skipped, $"no objective is set ({setting})");
        }

        if (!judged)
        {
            return new DrillCheck(name, DrillCheckStatus.Skipped, $"not judged: the drill did not recover to the end of the archive (objective {DrillReport.Seconds(o)})");
        }

        if (measured is not { } m)
        {
            return new DrillCheck(name, DrillCheckStatus.Skipped, $"not measured: the drill did not get that far (objective {DrillReport.Seconds(o)})");
        }

        return m > o
            ? new DrillCheck(name, DrillCheckStatus.Failed, $"VIOLATED: measured {DrillReport.Seconds(m)}, objective {DrillReport.Seconds(o)} ({setting})")
            : new DrillCheck(name, DrillCheckStatus.Passed, $"met: measured {DrillReport.Seconds(m)}, objective {DrillReport.Seconds(o)}");
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

    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "The drill reports could not be written to {Directory}: {Error}")]
    private static partial void LogReportNotWritten(ILogger logger, string directory, string error);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "The drill was not recorded in the catalog: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string error);
}

/// <summary>What a drill run adds to the run history.</summary>
public sealed record DrillRunMetadata(string Drill, double? RtoSeconds, bool Restorable);
