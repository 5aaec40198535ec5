using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Drills;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Stacks;
using Lifeboat.Engine.UseCases.Targets;
using Polly;
using Polly.Retry;

namespace Lifeboat.Engine.UseCases.Schedules;

/// <param name="FirstRetryDelay">The delay before the first retry (tests shorten it); null: 30 s.</param>
public sealed record RunScheduleRequest(string Name, TimeSpan? FirstRetryDelay = null);

/// <summary>The result of one scheduled run.</summary>
/// <param name="Skipped">The job did not run: its source is in maintenance mode or another operation held its lock (<paramref name="Error"/> says which).</param>
public sealed record JobResult(string Schedule, bool Succeeded, int Attempts, string Summary, string? Error, bool Skipped = false);

/// <summary>
/// `schedule run` and the scheduler: runs a schedule's job now, under the source's operation lock (never two runs of one
/// source at once), through the same use case a person would call, retried with exponential backoff on failure (not
/// for bad input or a failed drill), and records the schedule's state in the catalog. A job of a source in maintenance
/// mode (or, for a job of no source, of the workspace in global maintenance) is skipped, not failed: its state is left
/// as it was, and the next run is the schedule's next time as usual.
/// </summary>
public sealed class RunSchedule : IUseCase<RunScheduleRequest, JobResult>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly BackupSource _backup;
    private readonly BackupStack _stack;
    private readonly VerifyRepository _verify;
    private readonly RunDrill _drill;
    private readonly ExpireBackups _expire;
    private readonly Replicate _replicate;
    private readonly MaintenanceGate _maintenance;
    private readonly OperationLocks _locks;
    private readonly CallContext _call;

    public RunSchedule(Workspace workspace, CatalogAccess catalog, TimeProvider time, BackupSource backup, BackupStack stack, VerifyRepository verify, RunDrill drill, ExpireBackups expire, Replicate replicate, MaintenanceGate maintenance, OperationLocks locks, CallContext call)
    {
        _maintenance = maintenance;
        _locks = locks;
        _call = call;
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
        _backup = backup;
        _stack = stack;
        _verify = verify;
        _drill = drill;
        _expire = expire;
        _replicate = replicate;
    }

    public async Task<JobResult> ExecuteAsync(RunScheduleRequest request, CancellationToken cancellationToken)
    {
        if (!_workspace.Options.Schedules.TryGetValue(request.Name, out var options))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no schedule '{request.Name}'", "`lifeboat schedule list` shows the schedules");
        }

        var schedule = new Schedule(request.Name, options);
        if (!_call.IgnoreMaintenance && await InMaintenanceAsync(schedule, cancellationToken) is { } window)
        {
            return new JobResult(schedule.Name, false, 0, "skipped", window.Describe(), Skipped: true);
        }

        var lockName = schedule.Source ?? schedule.Options.Stack ?? "repository";
        using var operationLock = _locks.Hold(lockName, $"schedule {schedule.Name} ({schedule.Kind})");
        var attempts = 0;
        var builder = new ResiliencePipelineBuilder { TimeProvider = _time };
        if (schedule.Options.MaxAttempts > 1)
        {
            // MaxAttempts 1: no retry strategy at all (Polly refuses zero retries).
            builder.AddRetry(new RetryStrategyOptions
            {
                // A failed drill is a finding, not a transient failure: it is not retried; nor is bad input.
                // A backup committed with problems neither: it is in the repository, and another one now would most
                // likely find the same unreadable or busy files (a log written all the time) and add a backup per retry.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not (OperationCanceledException or DrillFailedException or MaintenanceException or ApprovalRequiredException or CommittedWithProblemsException) && !(ex is LifeboatException l && l.ExitCode == 2)),
                MaxRetryAttempts = schedule.Options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = request.FirstRetryDelay ?? TimeSpan.FromSeconds(30),
            });
        }

        var pipeline = builder.Build();
        string summary;
        string? error = null;
        var started = _time.GetUtcNow();
        try
        {
            summary = await pipeline.ExecuteAsync(async ct =>
            {
                attempts++;
                return await RunJobAsync(schedule, ct);
            }, cancellationToken);
        }
        catch (ApprovalRequiredException ex)
        {
            // Nothing was done: the run waits for approval, and a run after the approval executes it (same request).
            summary = "awaiting approval " + ex.Request.Id;
            error = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            summary = "failed";
            error = ex.Message;
        }

        await SaveStateAsync(schedule, started, error is null, cancellationToken);
        return new JobResult(schedule.Name, error is null, attempts, summary, error);
    }

    private async Task<string> RunJobAsync(Schedule schedule, CancellationToken cancellationToken)
    {
        switch (schedule.Kind)
        {
            case JobKinds.Full:
            case JobKinds.Incr:
            case JobKinds.Backup:
            case JobKinds.Files:
            case JobKinds.Logical:
                var type = schedule.Kind is JobKinds.Full or JobKinds.Incr ? schedule.Kind : null;
                var backup = await _backup.ExecuteAsync(new BackupSourceRequest(schedule.Source!, type), cancellationToken);
                if (backup.Problems.Count > 0)
                {
                    throw new CommittedWithProblemsException($"backup {backup.Id} completed with {backup.Problems.Count} problem(s): {backup.Problems[0]}");
                }

                return $"backup {backup.Id}: {ByteSize.Format(backup.Stats.StoredBytes)} stored";
            case JobKinds.Stack:
                var stack = await _stack.ExecuteAsync(new BackupStackRequest(schedule.Options.Stack!), cancellationToken);
                if (stack.Problems.Count > 0)
                {
                    throw new CommittedWithProblemsException($"stack backup {stack.Id} completed with {stack.Problems.Count} problem(s): {stack.Problems[0]}");
                }

                return $"stack backup {stack.Id}: {stack.MemberBackups.Count} member(s), {ByteSize.Format(stack.MemberBackups.Sum(m => m.Stats.StoredBytes))} stored";
            case JobKinds.Verify:
                var report = await _verify.ExecuteAsync(new VerifyRepositoryRequest(), cancellationToken);
                if (!report.Healthy)
                {
                    throw report.ToException();
                }

                return "no damage found";
            case JobKinds.Drill:
                var drill = await _drill.ExecuteAsync(new RunDrillRequest(schedule.Source!), cancellationToken);
                if (!drill.Passed)
                {
                    throw new DrillFailedException(drill.Summary);
                }

                return drill.Summary;
            case JobKinds.Expire:
                var expire = await _expire.ExecuteAsync(new ExpireBackupsRequest(schedule.Source), cancellationToken);
                if (expire.Failures.FirstOrDefault() is { Failure: { } expireError } failedTarget)
                {
                    throw new LifeboatException(expireError.Code, $"expire failed on target {failedTarget.Target}: {expireError.Message}", expireError.Hint);
                }

                return $"{expire.Deleted} backup(s) expired";
            case JobKinds.Replicate:
                var replicated = await _replicate.ExecuteAsync(new ReplicateRequest(), cancellationToken);
                if (replicated.Failures.Count > 0)
                {
                    throw new LifeboatException(ErrorCode.TargetFailed, "replication failed: " + string.Join("; ", replicated.Failures.Select(f => $"target {f.Target}: {f.Error}")));
                }

                return $"replicated {replicated.Targets.Sum(t => t.Objects)} object(s) to {replicated.Targets.Count} target(s)";
            default:
                throw new LifeboatException(ErrorCode.Config, $"schedule '{schedule.Name}' runs '{schedule.Kind}' jobs, which this build cannot run yet", "remove the schedule or upgrade Lifeboat");
        }
    }

    /// <summary>The maintenance window that pauses the schedule: its source's, a stack member's, or the global one.</summary>
    private async Task<MaintenanceWindow?> InMaintenanceAsync(Schedule schedule, CancellationToken cancellationToken)
    {
        var sources = schedule.Source is { } source ? [source]
            : schedule.Options.Stack is { } stack && _workspace.Options.Stacks.TryGetValue(stack, out var members) ? members.Sources.ToList()
            : new List<string>();
        var active = await _maintenance.ActiveAsync(cancellationToken);
        return active.FirstOrDefault(w => w.Source is not null && sources.Contains(w.Source, StringComparer.Ordinal)) ?? active.FirstOrDefault(w => w.Source is null);
    }

    private async Task SaveStateAsync(Schedule schedule, DateTimeOffset started, bool succeeded, CancellationToken cancellationToken)
    {
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            var states = await catalog.ScheduleStatesAsync(cancellationToken);
            var failures = succeeded ? 0 : (states.TryGetValue(schedule.Name, out var s) ? s.ConsecutiveFailures : 0) + 1;
            await catalog.SaveScheduleStateAsync(new ScheduleState(schedule.Name, started, succeeded ? RunStatus.Succeeded : RunStatus.Failed, schedule.Next(_time.GetUtcNow()), failures), cancellationToken);
        }
        catch (LifeboatException)
        {
            // The run history is a convenience; the job itself ran.
        }
    }
}

/// <summary>
/// A scheduled backup was committed, with problems (paths it could not read, files changed while it read them): the
/// run is recorded as failed, so that health and alerts see it, but it is not retried.
/// </summary>
public sealed class CommittedWithProblemsException(string message) : LifeboatException(ErrorCode.Failed, message, "`lifeboat info BACKUP_ID` lists every problem; exclude files that are always being written, or back them up another way");
