using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;

namespace Lifeboat.Engine.UseCases.Jobs;

/// <param name="State">Only jobs in this state (queued, running, succeeded, failed, cancelled, awaiting-approval).</param>
/// <param name="Limit">At most this many, newest first (1–1000).</param>
/// <param name="Cursor">The <c>next</c> of the previous page.</param>
public sealed record ListJobsRequest(string? State = null, int Limit = 50, string? Cursor = null);

/// <summary>The workspace's jobs, newest first, a page at a time (running ones with their live progress).</summary>
public sealed class ListJobs : IUseCase<ListJobsRequest, JobPage>
{
    private readonly Workspace _workspace;
    private readonly JobQueue _jobs;

    public ListJobs(Workspace workspace, JobQueue jobs)
    {
        _workspace = workspace;
        _jobs = jobs;
    }

    public Task<JobPage> ExecuteAsync(ListJobsRequest request, CancellationToken cancellationToken)
        => _jobs.ListAsync(_workspace, request.State, request.Limit, request.Cursor, cancellationToken);
}
