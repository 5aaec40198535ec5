using System.Text.Json;
using Lifeboat.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application.Jobs;

/// <summary>
/// A job of this process, queued or running: its own service scope and cancellation, the current view (changed under a
/// lock, each change waking the watchers), and the writes of that view to the catalog, one after the other.
/// It is also the job's progress sink: updates change the view at once and reach the catalog at most once per interval.
/// </summary>
internal sealed class LiveJob : IProgress<ProgressUpdate>
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly TimeSpan _persistInterval;
    private readonly ILogger _logger;
    private readonly string _actorJson;
    private readonly string _node;
    private JobView _view;
    private int _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _writes = Task.CompletedTask;
    private JobView? _final;
    private DateTimeOffset _lastWrite;

    public LiveJob(JobView view, JobSubmission submission, string tenant, AsyncServiceScope scope, LifeboatCatalog catalog, CancellationTokenSource cancellation, TimeProvider time, JobQueueOptions options, ILogger logger)
    {
        _view = view;
        Submission = submission;
        Tenant = tenant;
        Scope = scope;
        Catalog = catalog;
        Cancellation = cancellation;
        _time = time;
        _persistInterval = options.PersistInterval;
        _node = options.Node;
        _logger = logger;
        _actorJson = JsonSerializer.Serialize(view.Actor, LifeboatJson.Compact.Actor);
    }

    public JobSubmission Submission { get; }

    public string Tenant { get; }

    /// <summary>The job's own scope: its use case, workspace and call context live here, not in the request that submitted it.</summary>
    public AsyncServiceScope Scope { get; }

    public LifeboatCatalog Catalog { get; }

    /// <summary>The job's own cancellation (linked to the queue's stop, never to the submitter's request).</summary>
    public CancellationTokenSource Cancellation { get; }

    public string Id => _view.Id;

    public JobView View
    {
        get
        {
            lock (_lock)
            {
                return _view;
            }
        }
    }

    /// <summary>The current view, its version, and a task that completes at the next change.</summary>
    public (JobView View, int Version, Task Changed) Snapshot()
    {
        lock (_lock)
        {
            return (_view, _version, _changed.Task);
        }
    }

    /// <summary>Applies <paramref name="change"/> unless it returns null (the change does not apply to the current state); true when it applied.</summary>
    public bool TryChange(Func<JobView, JobView?> change)
    {
        TaskCompletionSource woken;
        lock (_lock)
        {
            if (change(_view) is not { } next)
            {
                return false;
            }

            _view = next;
            _version++;
            woken = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        woken.TrySetResult();
        return true;
    }

    public void Report(ProgressUpdate value)
    {
        var write = false;
        var applied = TryChange(v =>
        {
            if (v.State != JobStates.Running)
            {
                // A late report (Progress<T> posts them) after the job ended changes nothing.
                return null;
            }

            var now = _time.GetUtcNow();
            if (now - _lastWrite >= _persistInterval)
            {
                _lastWrite = now;
                write = true;
            }

            return v with { Progress = new JobProgress(value.Phase, value.Detail, value.Bytes, value.TotalBytes, value.Files) };
        });
        if (applied && write)
        {
            _ = WriteAsync();
        }
    }

    /// <summary>Writes the current view to the catalog after the writes before it; a failed write is logged (the catalog is a convenience).</summary>
    public Task WriteAsync()
    {
        lock (_lock)
        {
            _lastWrite = _time.GetUtcNow();
            _writes = _writes.ContinueWith(_ => WriteNowAsync(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            return _writes;
        }
    }

    /// <summary>
    /// Writes the job's terminal view to the catalog (after the writes before it) before anyone is told it ended: an
    /// observer who saw the end finds it in the catalog too, and no later progress write can take the record back to
    /// <c>running</c> (every write after this one writes the terminal view).
    /// </summary>
    public Task WriteFinalAsync(JobView final)
    {
        lock (_lock)
        {
            _final = final;
        }

        return WriteAsync();
    }

    private async Task WriteNowAsync()
    {
        JobView v;
        lock (_lock)
        {
            v = _final ?? _view;
        }

        try
        {
            await Catalog.UpsertJobAsync(Record(v), CancellationToken.None);
        }
        catch (Exception ex)
        {
            JobQueue.LogWriteFailed(_logger, v.Id, ex.Message);
        }
    }

    public JobRecord Record(JobView v) => new()
    {
        Id = v.Id,
        Tenant = Tenant,
        Kind = v.Kind,
        Source = v.Source,
        State = v.State,
        Actor = _actorJson,
        CorrelationId = v.CorrelationId,
        Request = Submission.Request,
        Created = v.Created,
        Started = v.Started,
        Finished = v.Finished,
        Node = _node,
        Phase = v.Progress.Phase,
        Bytes = v.Progress.Bytes,
        TotalBytes = v.Progress.TotalBytes,
        Files = v.Progress.Files,
        Result = v.Result is { } r ? JsonSerializer.Serialize(r, LifeboatJson.Compact.JsonElement) : null,
        Error = v.Error is { } e ? JsonSerializer.Serialize(e, LifeboatJson.Compact.ErrorView) : null,
    };
}
