using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application.Jobs;

/// <summary>
/// The server's long operations (API.md "Long operations are jobs"). <see cref="SubmitAsync"/> records a job
/// <c>queued</c> in the workspace's catalog and returns at once; at most <see cref="JobQueueOptions.MaxConcurrency"/>
/// jobs run at a time, each in its own service scope with its own cancellation, so a job outlives the request that
/// submitted it. Progress is live in memory and reaches the catalog about once a second and at the end; a job ends
/// <c>succeeded</c> (with the use case's result), <c>failed</c> (with the error) or <c>cancelled</c>. The host calls
/// <see cref="RecoverAsync"/> per workspace and <see cref="StartAsync"/> at start-up, <see cref="StopAsync"/> at shutdown.
/// </summary>
public sealed partial class JobQueue : IAsyncDisposable
{
    private const string InterruptedReason = "the server stopped while the job was queued or running";

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<JobQueue> _logger;
    private readonly JobQueueOptions _options;
    private readonly Channel<LiveJob> _queue = Channel.CreateUnbounded<LiveJob>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly ConcurrentDictionary<string, LiveJob> _live = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _admitting = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private Task[] _workers = [];
    private int _started;
    private int _stopped;

    public JobQueue(IServiceScopeFactory scopes, TimeProvider time, ILogger<JobQueue> logger, JobQueueOptions options)
    {
        if (options.MaxConcurrency < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxConcurrency, "MaxConcurrency must be at least 1");
        }

        _scopes = scopes;
        _time = time;
        _logger = logger;
        _options = options;
    }

    /// <summary>Starts the workers that run queued jobs. Call <see cref="RecoverAsync"/> for each workspace first.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _workers = Enumerable.Range(0, _options.MaxConcurrency).Select(_ => Task.Run(WorkAsync, CancellationToken.None)).ToArray();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops: no new job is accepted, queued jobs are cancelled, running ones are asked to stop and waited for (until
    /// <paramref name="cancellationToken"/>), and each is recorded <c>cancelled</c>.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            await Task.WhenAll(_workers).WaitAsync(cancellationToken);
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        foreach (var job in _live.Values)
        {
            await CancelQueuedAsync(job, "the server stopped before the job started");
        }

        await Task.WhenAll(_workers).WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    /// <summary>
    /// Records the job <c>queued</c> in the catalog of <see cref="JobSubmission.Workspace"/> (made now, for the job
    /// alone) and returns its view; the job runs in the background. <paramref name="cancellationToken"/> covers the
    /// submission only, never the job.
    /// </summary>
    public async Task<JobView> SubmitAsync(JobSubmission submission, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _stopped) == 1)
        {
            throw new LifeboatException(ErrorCode.Failed, "the server is stopping: it accepts no new job", "submit the job again when the server is back");
        }

        if (Volatile.Read(ref _started) == 0)
        {
            throw new InvalidOperationException("the job queue is not started: the host calls JobQueue.StartAsync at start-up");
        }

        var scope = _scopes.CreateAsyncScope();
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        try
        {
            var workspace = submission.Workspace();
            var call = scope.ServiceProvider.GetRequiredService<CallContext>();
            call.Workspace = workspace;
            call.Actor = submission.Actor;
            call.CorrelationId = submission.CorrelationId;
            if (submission.Admit is { } admit)
            {
                // Refused now (maintenance, a held lock): the client gets the error, no job is recorded.
                await admit(scope.ServiceProvider, cancellationToken);
            }

            // The tenant's concurrent-jobs quota: counted and recorded under its own lock, so two submissions cannot
            // both take its last slot (a job leaves _live when it ends).
            var quotas = scope.ServiceProvider.GetRequiredService<TenantQuotas>();
            var limit = await quotas.JobsLimitAsync(cancellationToken);
            var admitting = limit is null ? null : _admitting.GetOrAdd(workspace.Name, _ => new SemaphoreSlim(1, 1));
            if (admitting is not null)
            {
                await admitting.WaitAsync(cancellationToken);
            }

            try
            {
                if (limit is { } jobs)
                {
                    var unfinished = _live.Values.Count(j => j.Tenant == workspace.Name && !JobStates.IsFinished(j.View.State));
                    await quotas.EnsureJobAsync(unfinished, jobs, submission.Kind, cancellationToken);
                }

                return await RecordAsync(submission, workspace, scope, cancellation, call, cancellationToken);
            }
            finally
            {
                admitting?.Release();
            }
        }
        catch
        {
            cancellation.Dispose();
            await scope.DisposeAsync();
            throw;
        }
    }

    private async Task<JobView> RecordAsync(JobSubmission submission, Workspace workspace, AsyncServiceScope scope, CancellationTokenSource cancellation, CallContext call, CancellationToken cancellationToken)
    {
        var catalog = await scope.ServiceProvider.GetRequiredService<CatalogAccess>().OpenAsync(cancellationToken);
        var now = _time.GetUtcNow();
        var view = new JobView(JobIds.New(now), submission.Kind, submission.Source, JobStates.Queued, submission.Actor, submission.CorrelationId, now, null, null, JobProgress.None, null, null);
        var job = new LiveJob(view, submission, workspace.Name, scope, catalog, cancellation, _time, _options, _logger);
        call.Progress = job;
        await catalog.UpsertJobAsync(job.Record(view), cancellationToken);
        _live[job.Id] = job;
        if (!_queue.Writer.TryWrite(job))
        {
            // Stopped between the check above and now.
            await CancelQueuedAsync(job, "the server stopped before the job started");
        }
        else
        {
            LogQueued(_logger, job.Id, submission.Kind, submission.Source, workspace.Name);
        }

        return job.View;
    }

    /// <summary>The job: its live view while this process runs it, else the catalog's; null when the workspace has no such job.</summary>
    public async Task<JobView?> GetAsync(Workspace workspace, string id, CancellationToken cancellationToken)
    {
        if (Live(workspace, id) is { } job)
        {
            return job.View;
        }

        var catalog = await new CatalogAccess(workspace, _time).OpenAsync(cancellationToken);
        return await catalog.JobAsync(workspace.Name, id, cancellationToken) is { } record ? FromRecord(record) : null;
    }

    /// <summary>
    /// The workspace's jobs, newest first, only in <paramref name="state"/> when given: at most <paramref name="limit"/>
    /// (1–1000) after the <paramref name="cursor"/> of the previous page.
    /// </summary>
    public async Task<JobPage> ListAsync(Workspace workspace, string? state, int limit, string? cursor, CancellationToken cancellationToken)
    {
        if (state is not null && !JobStates.All.Contains(state, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«state» '{state}' is not a job state", "give one of: " + string.Join(", ", JobStates.All));
        }

        if (limit is < 1 or > 1000)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«limit» {limit} is out of range", "ask for 1 to 1000 jobs");
        }

        if (cursor is not null && !cursor.StartsWith("job_", StringComparison.Ordinal))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«cursor» '{cursor}' is not a cursor of the job list", "pass the `next` of the previous page as it is");
        }

        var catalog = await new CatalogAccess(workspace, _time).OpenAsync(cancellationToken);
        var records = await catalog.JobsAsync(workspace.Name, state, limit + 1, cursor, cancellationToken);
        var items = records.Take(limit).Select(r => Live(workspace, r.Id)?.View ?? FromRecord(r)).ToList();
        return new JobPage(items, records.Count > limit ? items[^1].Id : null);
    }

    /// <summary>
    /// Cancels the job: a queued job is cancelled at once, a running one is asked to stop (it ends <c>cancelled</c>), a
    /// finished one is left as it is — the outcome says which. Null when the workspace has no such job.
    /// </summary>
    public async Task<JobCancellation?> CancelAsync(Workspace workspace, string id, CancellationToken cancellationToken)
    {
        if (Live(workspace, id) is { } job)
        {
            if (await CancelQueuedAsync(job, "the job was cancelled before it started"))
            {
                return new JobCancellation(job.View, JobCancelOutcomes.Cancelled, $"job {id} was queued: it is cancelled and will not run");
            }

            if (job.View.State is JobStates.Running or JobStates.AwaitingApproval)
            {
                try
                {
                    await job.Cancellation.CancelAsync();
                }
                catch (ObjectDisposedException)
                {
                    // It ended meanwhile: the catalog has its end.
                }

                var view = job.View;
                if (!JobStates.IsFinished(view.State))
                {
                    LogCancelRequested(_logger, id);
                    return new JobCancellation(view, JobCancelOutcomes.CancellationRequested, $"job {id} is running: it was asked to stop and ends cancelled at its next check");
                }
            }
        }

        if (await GetAsync(workspace, id, cancellationToken) is not { } found)
        {
            return null;
        }

        if (!JobStates.IsFinished(found.State))
        {
            throw new LifeboatException(ErrorCode.Failed, $"job {id} is {found.State} on another server node, not on this one", "cancel it on the node that runs it");
        }

        return new JobCancellation(found, JobCancelOutcomes.AlreadyFinished, $"job {id} had already ended ({found.State}): nothing changed");
    }

    /// <summary>
    /// The job's view now, then at every change until it ends (for server-sent events). A job another node runs is
    /// followed through the catalog. Throws NotFound when the workspace has no such job.
    /// </summary>
    public async IAsyncEnumerable<JobView> WatchAsync(Workspace workspace, string id, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Live(workspace, id) is { } job)
        {
            var last = -1;
            while (true)
            {
                var (view, version, changed) = job.Snapshot();
                if (version != last)
                {
                    last = version;
                    yield return view;
                }

                if (JobStates.IsFinished(view.State))
                {
                    yield break;
                }

                await changed.WaitAsync(cancellationToken);
            }
        }

        JobView? previous = null;
        while (true)
        {
            var view = await GetAsync(workspace, id, cancellationToken) ?? throw NotFound(id);
            if (previous is null || !SameState(previous, view))
            {
                previous = view;
                yield return view;
            }

            if (JobStates.IsFinished(view.State))
            {
                yield break;
            }

            await Task.Delay(_options.PersistInterval, _time, cancellationToken);
        }
    }

    /// <summary>
    /// At start-up: every job the workspace's catalog still has <c>queued</c> or <c>running</c> belonged to a process
    /// that is gone; they become <c>failed</c> with the reason. Returns how many.
    /// </summary>
    public async Task<int> RecoverAsync(Workspace workspace, CancellationToken cancellationToken)
    {
        var catalog = await new CatalogAccess(workspace, _time).OpenAsync(cancellationToken);
        var error = ErrorView.Of(ErrorCode.Failed, InterruptedReason, "submit the operation again");
        var count = await catalog.FailInterruptedAsync(JsonSerializer.Serialize(error, LifeboatJson.Compact.ErrorView), _time.GetUtcNow(), cancellationToken);
        if (count > 0)
        {
            LogRecovered(_logger, count, workspace.Name);
        }

        return count;
    }

    /// <summary>The error of an unknown job id.</summary>
    public static LifeboatException NotFound(string id)
        => new(ErrorCode.NotFound, $"there is no job '{id}' («id») in this workspace", "the list of jobs shows this workspace's jobs, newest first");

    private LiveJob? Live(Workspace workspace, string id)
        => _live.TryGetValue(id, out var job) && job.Tenant == workspace.Name ? job : null;

    private async Task WorkAsync()
    {
        await foreach (var job in _queue.Reader.ReadAllAsync(CancellationToken.None))
        {
            if (job.TryChange(v => v.State == JobStates.Queued ? v with { State = JobStates.Running, Started = _time.GetUtcNow() } : null))
            {
                await RunAsync(job);
            }
        }
    }

    private async Task RunAsync(LiveJob job)
    {
        var id = job.Id;
        using var scope = _logger.BeginScope(new CorrelationScope(job.View.CorrelationId));
        LogStarted(_logger, id, job.Submission.Kind, job.Submission.Source);
        string state;
        JsonElement? result = null;
        ErrorView? error = null;
        try
        {
            await job.WriteAsync();
            result = await job.Submission.Run(job.Scope.ServiceProvider, job.Cancellation.Token);
            state = JobStates.Succeeded;
        }
        catch (Exception ex) when (job.Cancellation.IsCancellationRequested && ex is OperationCanceledException or LifeboatException { Code: ErrorCode.Cancelled })
        {
            state = JobStates.Cancelled;
            error = _stopping.IsCancellationRequested
                ? ErrorView.Of(ErrorCode.Cancelled, "the server stopped while the job was running", "submit the operation again")
                : ErrorView.Of(ErrorCode.Cancelled, "the job was cancelled while it ran", null);
        }
        catch (ApprovalRequiredException ex)
        {
            // Nothing was done: the job waits for the decision, off the workers, and runs again once approved.
            var request = ex.Request.Id;
            job.TryChange(v => v with { State = JobStates.AwaitingApproval, ApprovalId = request, Error = ErrorView.From(ex, FieldText.AsJsonField) });
            await job.WriteAsync();
            LogAwaitingApproval(_logger, id, request);
            _ = Task.Run(() => AwaitApprovalAsync(job, request), CancellationToken.None);
            return;
        }
        catch (LifeboatException ex)
        {
            state = JobStates.Failed;
            error = ErrorView.From(ex, FieldText.AsJsonField);
        }
        catch (UnauthorizedAccessException ex)
        {
            state = JobStates.Failed;
            error = ErrorView.From(LifeboatException.PermissionDenied(ex), FieldText.AsJsonField);
        }
        catch (Exception ex)
        {
            // Not one of ours: the message only (the stack trace goes to the log, never to the API).
            state = JobStates.Failed;
            error = ErrorView.Of(ErrorCode.Failed, ex.Message, null);
            LogCrashed(_logger, ex, id);
        }

        // Recorded before the watchers are told, so that whoever saw the end also reads it from the catalog.
        var final = job.View with { State = state, Finished = _time.GetUtcNow(), Result = result, Error = error };
        await job.WriteFinalAsync(final);
        job.TryChange(_ => final);
        _live.TryRemove(id, out _);
        LogFinished(_logger, id, state, error?.Message);
        job.Cancellation.Dispose();
        await job.Scope.DisposeAsync();
    }

    /// <summary>
    /// A job awaiting approval: polls the request until it is decided; approved, the job is queued again and runs with
    /// the request (executed once, exactly as approved); denied, expired or voided, it ends failed; cancelled, cancelled.
    /// </summary>
    private async Task AwaitApprovalAsync(LiveJob job, string request)
    {
        string state;
        ErrorView error;
        try
        {
            var call = job.Scope.ServiceProvider.GetRequiredService<CallContext>();
            var show = job.Scope.ServiceProvider.GetRequiredService<UseCases.Approvals.ShowApproval>();
            while (true)
            {
                var view = await show.ExecuteAsync(new UseCases.Approvals.ShowApprovalRequest(request), job.Cancellation.Token);
                if (view.State == UseCases.Approvals.ApprovalStates.Approved)
                {
                    call.ApprovalId = request;
                    if (job.TryChange(v => v.State == JobStates.AwaitingApproval ? v with { State = JobStates.Queued, Error = null } : null) && _queue.Writer.TryWrite(job))
                    {
                        await job.WriteAsync();
                        return;
                    }

                    throw new OperationCanceledException();
                }

                if (view.State != UseCases.Approvals.ApprovalStates.Pending)
                {
                    state = JobStates.Failed;
                    error = ErrorView.Of(ErrorCode.Refused, $"approval request {request} was {view.State}{(view.Reason is null ? "" : ": " + view.Reason)}; nothing was done", "submit the operation again for a new request");
                    break;
                }

                await Task.Delay(_options.ApprovalPollInterval, _time, job.Cancellation.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || job.Cancellation.IsCancellationRequested)
        {
            state = JobStates.Cancelled;
            error = _stopping.IsCancellationRequested
                ? ErrorView.Of(ErrorCode.Cancelled, "the server stopped while the job awaited approval", "submit the operation again")
                : ErrorView.Of(ErrorCode.Cancelled, "the job was cancelled while it awaited approval", null);
        }
        catch (Exception ex)
        {
            state = JobStates.Failed;
            error = ex is LifeboatException l ? ErrorView.From(l, FieldText.AsJsonField) : ErrorView.Of(ErrorCode.Failed, ex.Message, null);
        }

        var final = job.View with { State = state, Finished = _time.GetUtcNow(), Error = error };
        await job.WriteFinalAsync(final);
        job.TryChange(_ => final);
        _live.TryRemove(job.Id, out _);
        LogFinished(_logger, job.Id, state, error.Message);
        job.Cancellation.Dispose();
        await job.Scope.DisposeAsync();
    }

    /// <summary>Cancels a job that is still queued (recorded at once); false when it is not queued any more.</summary>
    private async Task<bool> CancelQueuedAsync(LiveJob job, string reason)
    {
        if (!job.TryChange(v => v.State == JobStates.Queued ? v with { State = JobStates.Cancelled, Finished = _time.GetUtcNow(), Error = ErrorView.Of(ErrorCode.Cancelled, reason, null) } : null))
        {
            return false;
        }

        await job.WriteAsync();
        _live.TryRemove(job.Id, out _);
        LogFinished(_logger, job.Id, JobStates.Cancelled, reason);
        job.Cancellation.Dispose();
        await job.Scope.DisposeAsync();
        return true;
    }

    private static bool SameState(JobView a, JobView b)
        => a.State == b.State && a.Progress == b.Progress && a.Started == b.Started && a.Finished == b.Finished;

    private static JobView FromRecord(JobRecord r) => new(
        r.Id,
        r.Kind,
        r.Source,
        r.State,
        Parse(r.Actor, LifeboatJson.Compact.Actor) ?? Actor.System,
        r.CorrelationId,
        r.Created,
        r.Started,
        r.Finished,
        new JobProgress(r.Phase, null, r.Bytes, r.TotalBytes, r.Files),
        r.Result is null ? null : Parse(r.Result, LifeboatJson.Compact.JsonElement),
        r.Error is null ? null : Parse(r.Error, LifeboatJson.Compact.ErrorView));

    private static T? Parse<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
    {
        try
        {
            return JsonSerializer.Deserialize(json, info);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    internal static void LogWriteFailed(ILogger logger, string id, string error) => WriteFailed(logger, id, error);

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Job {Id} queued: {Kind} of {Source} in workspace {Tenant}")]
    private static partial void LogQueued(ILogger logger, string id, string kind, string? source, string tenant);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "Job {Id} started: {Kind} of {Source}")]
    private static partial void LogStarted(ILogger logger, string id, string kind, string? source);

    [LoggerMessage(EventId = 5203, Level = LogLevel.Information, Message = "Job {Id} ended {State} {Error}")]
    private static partial void LogFinished(ILogger logger, string id, string state, string? error);

    [LoggerMessage(EventId = 5204, Level = LogLevel.Error, Message = "Job {Id} failed with an unexpected error")]
    private static partial void LogCrashed(ILogger logger, Exception error, string id);

    [LoggerMessage(EventId = 5208, Level = LogLevel.Information, Message = "Job {Id} awaits approval request {Request}")]
    private static partial void LogAwaitingApproval(ILogger logger, string id, string request);

    [LoggerMessage(EventId = 5205, Level = LogLevel.Information, Message = "Job {Id}: cancellation requested")]
    private static partial void LogCancelRequested(ILogger logger, string id);

    [LoggerMessage(EventId = 5206, Level = LogLevel.Warning, Message = "{Count} job(s) of workspace {Tenant} were queued or running when the server stopped: recorded as failed")]
    private static partial void LogRecovered(ILogger logger, int count, string tenant);

    [LoggerMessage(EventId = 5207, Level = LogLevel.Warning, Message = "Job {Id}: could not record its state in the catalog: {Error}")]
    private static partial void WriteFailed(ILogger logger, string id, string error);
}
