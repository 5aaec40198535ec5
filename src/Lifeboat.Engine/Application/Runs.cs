using Lifeboat.Catalog;

namespace Lifeboat.Engine.Application;

/// <summary>What a finished run reports to the run history.</summary>
public sealed record RunFigures(long BytesRead = 0, long BytesStored = 0, string? BackupId = null, string? Metadata = null);

/// <summary>A run about to start: its event family, the run kind kept in the history, what it concerns.</summary>
public sealed record RunInfo(string Operation, string Kind, string? Source = null, string? Target = null, string? Id = null);

/// <summary>
/// Runs a job as a run: publishes <see cref="RunStarted"/>, then <see cref="RunFinished"/> with the figures, the
/// error or the cancellation. The default sink turns them into the catalog's run history.
/// </summary>
public sealed class Runs
{
    private readonly Events _events;
    private readonly TimeProvider _time;

    public Runs(Events events, TimeProvider time)
    {
        _events = events;
        _time = time;
    }

    public async Task<T> RecordAsync<T>(RunInfo info, Func<Task<T>> job, Func<T, RunFigures> figures, CancellationToken cancellationToken)
    {
        var id = info.Id ?? CallContext.NewId();
        var started = _time.GetUtcNow();
        await _events.PublishAsync(new RunStarted(id, info.Operation, info.Kind, info.Source, info.Target, started), cancellationToken);
        T result;
        try
        {
            result = await job();
        }
        catch (Exception ex)
        {
            var status = ex switch { OperationCanceledException => RunStatus.Cancelled, ApprovalRequiredException => RunStatus.AwaitingApproval, _ => RunStatus.Failed };
            await _events.PublishAsync(Finished(info, id, started, status, new RunFigures(), ex.Message), CancellationToken.None);
            throw;
        }

        await _events.PublishAsync(Finished(info, id, started, RunStatus.Succeeded, figures(result), null), CancellationToken.None);
        return result;
    }

    /// <summary>Records a run that already ended (a drill, which judges its own result).</summary>
    public ValueTask FinishedAsync(RunInfo info, DateTimeOffset started, string status, RunFigures figures, string? error, CancellationToken cancellationToken)
        => _events.PublishAsync(Finished(info, info.Id ?? CallContext.NewId(), started, status, figures, error), cancellationToken);

    private RunFinished Finished(RunInfo info, string id, DateTimeOffset started, string status, RunFigures f, string? error)
        => new(id, info.Operation, info.Kind, info.Source, info.Target, status, started, _time.GetUtcNow(), f.BytesRead, f.BytesStored, f.BackupId, error, f.Metadata);
}
