using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Schedules;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Scheduling;

/// <summary>
/// Runs the configured schedules (lifeboat serve). Each schedule's next run is kept in the catalog, so a run missed
/// while the server was down runs once at start-up; runs of different sources may overlap, runs of one source never
/// do (<see cref="OperationLock"/>). Each run is a call of <see cref="RunSchedule"/> in a scope of its own, in a
/// workspace read afresh; a failed run is retried with backoff there, then recorded. A run of a source in maintenance
/// mode is skipped (logged, reported with <see cref="JobResult.Skipped"/>); the next run is computed as usual.
/// <para>
/// Several server nodes may share one catalog (PostgreSQL): every node computes the same due times from the cron
/// expressions, and before running one it claims (schedule, due time) in the catalog — the node whose claim is
/// inserted first runs it, the others skip it, so each due run happens once. The running node renews a heartbeat;
/// a claim whose heartbeat stopped for longer than <see cref="SchedulerOptions.LeaseTimeout"/> (its node crashed)
/// is taken over by another node, which runs it again.
/// </para>
/// </summary>
public sealed partial class Scheduler
{
    private readonly Func<Workspace> _workspace;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SchedulerOptions _options;
    private readonly List<Task> _running = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="workspace">Opens the workspace whose schedules run (called once per run: configuration changes apply).</param>
    public Scheduler(Func<Workspace> workspace, IServiceScopeFactory scopes, TimeProvider time, ILogger<Scheduler> logger, SchedulerOptions? options = null)
    {
        _workspace = workspace;
        _scopes = scopes;
        _time = time;
        _logger = logger;
        _options = options ?? new SchedulerOptions();
    }

    /// <summary>This node's name in the catalog's claims.</summary>
    public string Node => _options.Node;

    /// <summary>Raised after each run (for the server's events and for tests).</summary>
    public event Action<JobResult>? Completed;

    /// <summary>
    /// Completes once the scheduler has read the schedules' state, made its first pass over due runs and abandoned
    /// claims, and waits for the clock (tests advance a fake clock only then; a host can report readiness).
    /// </summary>
    public Task Ready => _ready.Task;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var workspace = _workspace();
        var schedules = Schedule.All(workspace.Options);
        if (schedules.Count == 0)
        {
            LogNoSchedules(_logger);
        }

        var catalog = await new CatalogAccess(workspace, _time).OpenAsync(cancellationToken);
        var states = await catalog.ScheduleStatesAsync(cancellationToken);
        var now = _time.GetUtcNow();
        var next = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var schedule in schedules)
        {
            if (states.TryGetValue(schedule.Name, out var state) && state.NextRun is { } due && due <= now)
            {
                LogCatchUp(_logger, schedule.Name, due);
                next[schedule.Name] = due; // missed while the server was down: run once now (claimed by its due time, as on every node)
            }
            else
            {
                next[schedule.Name] = state?.NextRun is { } pending && pending > now ? pending : schedule.Next(now);
                await catalog.SaveScheduleStateAsync(new ScheduleState(schedule.Name, state?.LastRun, state?.LastStatus, next[schedule.Name], state?.ConsecutiveFailures ?? 0), cancellationToken);
            }
        }

        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                now = _time.GetUtcNow();
                schedules = await ReloadAsync(schedules, next, catalog, now, cancellationToken);
                var due = schedules.Where(s => next[s.Name] is { } at && at <= now).ToList();
                if (due.Count > 0)
                {
                    states = await catalog.ScheduleStatesAsync(cancellationToken);
                }

                foreach (var schedule in due)
                {
                    // Record the next run before this one starts: a crash mid-run must not run it twice at start-up.
                    var dueAt = next[schedule.Name]!.Value;
                    next[schedule.Name] = schedule.Next(now);
                    var state = states.GetValueOrDefault(schedule.Name);
                    await catalog.SaveScheduleStateAsync(new ScheduleState(schedule.Name, state?.LastRun, state?.LastStatus, next[schedule.Name], state?.ConsecutiveFailures ?? 0), cancellationToken);
                    Start(catalog, schedule, dueAt, cancellationToken);
                }

                // Runs a crashed node claimed and stopped renewing: take them over.
                foreach (var stale in (await catalog.StaleScheduledRunsAsync(_time.GetUtcNow() - _options.LeaseTimeout, cancellationToken)).Where(c => c.Node != _options.Node))
                {
                    if (schedules.FirstOrDefault(s => s.Name == stale.Name) is { } schedule)
                    {
                        LogTakeover(_logger, schedule.Name, stale.Due, stale.Node);
                        Start(catalog, schedule, stale.Due, cancellationToken);
                    }
                }

                var wake = next.Values.Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(now.AddHours(1)).Min();
                var delay = wake - _time.GetUtcNow();
                var sleep = Task.Delay(delay > TimeSpan.Zero ? Min(delay, _options.Heartbeat) : TimeSpan.FromMilliseconds(10), _time, cancellationToken);
                _ready.TrySetResult();
                await sleep;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        _ready.TrySetResult();
        await Task.WhenAll(_running);
    }

    /// <summary>
    /// The schedules as the configuration says now (an API or CLI edit, or a file edited by hand): a new schedule, or
    /// one whose cron or time zone changed, gets its next run from now; a removed one is forgotten. A configuration
    /// that does not load keeps the schedules as they were (and says so).
    /// </summary>
    private async Task<List<Schedule>> ReloadAsync(List<Schedule> schedules, Dictionary<string, DateTimeOffset?> next, LifeboatCatalog catalog, DateTimeOffset now, CancellationToken cancellationToken)
    {
        List<Schedule> current;
        try
        {
            current = Schedule.All(_workspace().Options);
        }
        catch (LifeboatException ex)
        {
            LogReloadFailed(_logger, ex.Message);
            return schedules;
        }

        var before = schedules.ToDictionary(s => s.Name, Timing, StringComparer.Ordinal);
        foreach (var schedule in current.Where(s => !before.TryGetValue(s.Name, out var timing) || timing != Timing(s)))
        {
            var state = (await catalog.ScheduleStatesAsync(cancellationToken)).GetValueOrDefault(schedule.Name);
            next[schedule.Name] = schedule.Next(now);
            await catalog.SaveScheduleStateAsync(new ScheduleState(schedule.Name, state?.LastRun, state?.LastStatus, next[schedule.Name], state?.ConsecutiveFailures ?? 0), cancellationToken);
            LogScheduleChanged(_logger, schedule.Name, next[schedule.Name]);
        }

        foreach (var gone in before.Keys.Where(n => current.All(s => s.Name != n)))
        {
            next.Remove(gone);
        }

        return current;
    }

    private static string Timing(Schedule schedule) => $"{schedule.Options.Cron}|{schedule.Options.TimeZone}";

    private void Start(LifeboatCatalog catalog, Schedule schedule, DateTimeOffset due, CancellationToken cancellationToken)
    {
        _running.RemoveAll(t => t.IsCompleted);
        _running.Add(Task.Run(() => RunClaimedAsync(catalog, schedule, due, cancellationToken), CancellationToken.None));
    }

    /// <summary>Claims the run in the catalog; runs it only when this node got it, renewing the claim while it runs.</summary>
    private async Task RunClaimedAsync(LifeboatCatalog catalog, Schedule schedule, DateTimeOffset due, CancellationToken cancellationToken)
    {
        try
        {
            if (!await catalog.ClaimScheduledRunAsync(schedule.Name, due, _options.Node, _time.GetUtcNow() - _options.LeaseTimeout, cancellationToken))
            {
                LogClaimedElsewhere(_logger, schedule.Name, due);
                return;
            }

            using var running = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var heartbeat = HeartbeatAsync(catalog, schedule.Name, due, running.Token);
            string status;
            try
            {
                status = await RunOneAsync(schedule, due, cancellationToken);
            }
            finally
            {
                await running.CancelAsync();
                await heartbeat;
            }

            await catalog.FinishScheduledRunAsync(schedule.Name, due, _options.Node, status, CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException)
        {
            LogClaimFailed(_logger, schedule.Name, ex.Message);
        }
    }

    private async Task HeartbeatAsync(LifeboatCatalog catalog, string name, DateTimeOffset due, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.Heartbeat, _time, cancellationToken);
                await catalog.HeartbeatScheduledRunAsync(name, due, _options.Node, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException)
        {
            LogClaimFailed(_logger, name, ex.Message);
        }
    }

    /// <returns>The run's status for the claim: succeeded, failed or skipped.</returns>
    private async Task<string> RunOneAsync(Schedule schedule, DateTimeOffset due, CancellationToken cancellationToken)
    {
        try
        {
            if (schedule.Options.Jitter > TimeSpan.Zero)
            {
                var jitter = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * schedule.Options.Jitter.TotalMilliseconds);
                await Task.Delay(jitter, _time, cancellationToken);
            }

            LogStarting(_logger, schedule.Name, schedule.Kind, schedule.Source ?? "-");
            using var scope = _scopes.CreateScope();
            var call = scope.ServiceProvider.GetRequiredService<CallContext>();
            call.Workspace = _workspace();
            call.Actor = Actor.Scheduler(schedule.Name);
            using var logScope = _logger.BeginScope(new CorrelationScope(call.CorrelationId));
            // A suspended tenant's schedules do not run: the run is skipped, and said so (resume brings the next one back).
            if (await scope.ServiceProvider.GetRequiredService<TenantGate>().CurrentAsync(cancellationToken) is { State: not Catalog.TenantRecord.Active } tenant)
            {
                var reason = $"tenant '{tenant.Name}' is {tenant.State}" + (tenant.StateReason is { Length: > 0 } r ? $" ({r})" : "");
                LogSkipped(_logger, schedule.Name, reason);
                await scope.ServiceProvider.GetRequiredService<Events>().PublishAsync(new ScheduleSkipped(schedule.Name, schedule.Source, tenant.State, due), cancellationToken);
                Completed?.Invoke(new JobResult(schedule.Name, false, 0, "skipped", reason, Skipped: true));
                return "skipped";
            }

            var result = await scope.ServiceProvider.GetRequiredService<RunSchedule>().ExecuteAsync(new RunScheduleRequest(schedule.Name), cancellationToken);
            if (result.Skipped)
            {
                LogSkipped(_logger, schedule.Name, result.Error ?? "");
            }
            else if (result.Succeeded)
            {
                LogSucceeded(_logger, schedule.Name, result.Summary);
            }
            else
            {
                LogFailed(_logger, schedule.Name, result.Attempts, result.Error ?? "");
            }

            Completed?.Invoke(result);
            return result.Skipped ? "skipped" : result.Succeeded ? RunStatus.Succeeded : RunStatus.Failed;
        }
        catch (LifeboatException ex) when (ex.Code == ErrorCode.RepositoryLocked)
        {
            LogSkipped(_logger, schedule.Name, ex.Message);
            Completed?.Invoke(new JobResult(schedule.Name, false, 0, "skipped", ex.Message, Skipped: true));
            return "skipped";
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "No schedules are configured; the scheduler is idle")]
    private static partial void LogNoSchedules(ILogger logger);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Information, Message = "Schedule {Schedule} missed its run at {Due} while the server was down: running it now")]
    private static partial void LogCatchUp(ILogger logger, string schedule, DateTimeOffset due);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Schedule {Schedule}: starting {Kind} of {Source}")]
    private static partial void LogStarting(ILogger logger, string schedule, string kind, string source);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Information, Message = "Schedule {Schedule}: {Summary}")]
    private static partial void LogSucceeded(ILogger logger, string schedule, string summary);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Error, Message = "Schedule {Schedule} failed after {Attempts} attempt(s): {Error}")]
    private static partial void LogFailed(ILogger logger, string schedule, int attempts, string error);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Warning, Message = "Schedule {Schedule} skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string schedule, string reason);

    [LoggerMessage(EventId = 5107, Level = LogLevel.Debug, Message = "Schedule {Schedule}: the run due at {Due} is claimed by another node")]
    private static partial void LogClaimedElsewhere(ILogger logger, string schedule, DateTimeOffset due);

    [LoggerMessage(EventId = 5108, Level = LogLevel.Warning, Message = "Schedule {Schedule}: taking over the run due at {Due} from node {Node}, whose heartbeat stopped")]
    private static partial void LogTakeover(ILogger logger, string schedule, DateTimeOffset due, string node);

    [LoggerMessage(EventId = 5109, Level = LogLevel.Error, Message = "Schedule {Schedule}: the catalog could not record the run's claim: {Error}")]
    private static partial void LogClaimFailed(ILogger logger, string schedule, string error);

    [LoggerMessage(EventId = 5110, Level = LogLevel.Information, Message = "Schedule {Schedule} is new or its timing changed: next run {Next}")]
    private static partial void LogScheduleChanged(ILogger logger, string schedule, DateTimeOffset? next);

    [LoggerMessage(EventId = 5111, Level = LogLevel.Error, Message = "The schedules were not reloaded (the ones read before keep running): {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string error);
}
