using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;
using Polly;
using Polly.Retry;

namespace Lifeboat.Engine.Scheduling;

/// <summary>The result of one scheduled run.</summary>
public sealed record JobResult(string Schedule, bool Succeeded, int Attempts, string Summary, string? Error);

/// <summary>
/// Runs a schedule's job now: under the source's operation lock (never two runs of one source at once), retried with
/// exponential backoff on failure, recorded in the run history and the schedule's state.
/// </summary>
public static class JobRunner
{
    public static async Task<JobResult> RunAsync(EngineContext context, Schedule schedule, CancellationToken cancellationToken, TimeSpan? firstRetryDelay = null)
    {
        var lockName = schedule.Source ?? schedule.Options.Stack ?? "repository";
        using var operationLock = OperationLock.Acquire(context.StateDirectory, lockName, $"schedule {schedule.Name} ({schedule.Kind})", context.Time);
        var attempts = 0;
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = context.Time }
            .AddRetry(new RetryStrategyOptions
            {
                // A failed drill is a finding, not a transient failure: it is not retried.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not (OperationCanceledException or Drills.DrillFailedException) && !(ex is LifeboatException l && l.ExitCode == 2)),
                MaxRetryAttempts = Math.Max(0, schedule.Options.MaxAttempts - 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = firstRetryDelay ?? TimeSpan.FromSeconds(30),
            })
            .Build();
        string summary;
        string? error = null;
        var started = context.Time.GetUtcNow();
        try
        {
            summary = await pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await RunJobAsync(context, schedule, ct);
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            summary = "failed";
            error = ex.Message;
        }

        await SaveStateAsync(context, schedule, started, error is null, cancellationToken);
        return new JobResult(schedule.Name, error is null, attempts, summary, error);
    }

    private static async Task<string> RunJobAsync(EngineContext context, Schedule schedule, CancellationToken cancellationToken)
    {
        switch (schedule.Kind)
        {
            case JobKinds.Full:
            case JobKinds.Incr:
            case JobKinds.Backup:
            case JobKinds.Files:
            case JobKinds.Logical:
                var type = schedule.Kind is JobKinds.Full or JobKinds.Incr ? schedule.Kind : null;
                var outcome = await BackupService.RunAsync(context, schedule.Source!, type, null, cancellationToken);
                if (outcome.Problems.Count > 0)
                {
                    throw new LifeboatException(ErrorCode.Failed, $"backup {outcome.Manifest.Id} completed with {outcome.Problems.Count} problem(s): {outcome.Problems[0]}");
                }

                return $"backup {outcome.Manifest.Id}: {ByteSize.Format(outcome.Manifest.Stats.StoredBytes)} stored";
            case JobKinds.Stack:
                var stack = await StackService.BackupAsync(context, schedule.Options.Stack!, null, null, cancellationToken);
                var stackProblems = stack.Problems.ToList();
                if (stackProblems.Count > 0)
                {
                    throw new LifeboatException(ErrorCode.Failed, $"stack backup {stack.Record.Id} completed with {stackProblems.Count} problem(s): {stackProblems[0]}");
                }

                return $"stack backup {stack.Record.Id}: {stack.Members.Count} member(s), {ByteSize.Format(stack.Members.Sum(m => m.Manifest.Stats.StoredBytes))} stored";
            case JobKinds.Verify:
                var report = await RunRecorder.RecordAsync(context, JobKinds.Verify, null, null, async () =>
                {
                    await using var repository = await context.OpenRepositoryAsync(cancellationToken);
                    await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "verify", cancellationToken);
                    return await new Verifier(repository).VerifyAsync(new VerifyOptions(), null, cancellationToken);
                }, r => new RunFigures(r.BytesRead), cancellationToken);
                if (!report.IsHealthy)
                {
                    throw new DamageException($"verify found {report.Damage.Count} damaged object(s)", report.Damage.Select(d => d.Object).ToList(), report.AffectedBackups.ToList());
                }

                return "no damage found";
            case JobKinds.Drill:
                var drill = await Drills.DrillService.RunAsync(context, new Drills.DrillRequest { SourceName = schedule.Source! }, null, cancellationToken);
                if (!drill.Passed)
                {
                    throw new Drills.DrillFailedException(drill.Summary);
                }

                return drill.Summary;
            case JobKinds.Expire:
                var expire = await ExpireService.RunAsync(context, schedule.Source, dryRun: false, null, cancellationToken);
                if (expire.Failures.FirstOrDefault() is { Error: { } expireError } failedTarget)
                {
                    throw new LifeboatException(expireError.Code, $"expire failed on target {failedTarget.Target}: {expireError.Message}", expireError.Hint);
                }

                return $"{expire.Deleted} backup(s) expired";
            case JobKinds.Replicate:
                var replicated = await Replication.ReplicationService.RunAsync(context, null, afterBackup: false, null, cancellationToken);
                if (replicated.Failures.Count > 0)
                {
                    throw new LifeboatException(ErrorCode.TargetFailed, "replication failed: " + string.Join("; ", replicated.Failures.Select(f => $"target {f.Target}: {f.Error!.Message}")));
                }

                return $"replicated {replicated.Targets.Sum(t => t.Objects)} object(s) to {replicated.Targets.Count} target(s)";
            default:
                throw new LifeboatException(ErrorCode.Config, $"schedule '{schedule.Name}' runs '{schedule.Kind}' jobs, which this build cannot run yet", "remove the schedule or upgrade Lifeboat");
        }
    }

    private static async Task SaveStateAsync(EngineContext context, Schedule schedule, DateTimeOffset started, bool succeeded, CancellationToken cancellationToken)
    {
        try
        {
            var catalog = await context.OpenCatalogAsync(cancellationToken);
            var states = await catalog.ScheduleStatesAsync(cancellationToken);
            var failures = succeeded ? 0 : (states.TryGetValue(schedule.Name, out var s) ? s.ConsecutiveFailures : 0) + 1;
            await catalog.SaveScheduleStateAsync(new ScheduleState(schedule.Name, started, succeeded ? RunStatus.Succeeded : RunStatus.Failed, schedule.Next(context.Time.GetUtcNow()), failures), cancellationToken);
        }
        catch (LifeboatException)
        {
            // The run history is a convenience; the job itself ran.
        }
    }
}
