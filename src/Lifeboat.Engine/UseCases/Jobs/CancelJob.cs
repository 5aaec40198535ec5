using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;

namespace Lifeboat.Engine.UseCases.Jobs;

public sealed record CancelJobRequest(string Id);

/// <summary>
/// Cancels a job of the workspace: a queued one at once, a running one at its next check (it ends cancelled), a
/// finished one not at all — the result's outcome says which. NotFound when there is no job of that id.
/// </summary>
public sealed class CancelJob : IUseCase<CancelJobRequest, JobCancellation>
{
    private readonly Workspace _workspace;
    private readonly JobQueue _jobs;

    public CancelJob(Workspace workspace, JobQueue jobs)
    {
        _workspace = workspace;
        _jobs = jobs;
    }

    public async Task<JobCancellation> ExecuteAsync(CancelJobRequest request, CancellationToken cancellationToken)
        => await _jobs.CancelAsync(_workspace, request.Id, cancellationToken) ?? throw JobQueue.NotFound(request.Id);
}
