using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;

namespace Lifeboat.Engine.UseCases.Jobs;

public sealed record GetJobRequest(string Id);

/// <summary>One job of the workspace: state, progress, timings, and its result or error (NotFound when there is none of that id).</summary>
public sealed class GetJob : IUseCase<GetJobRequest, JobView>
{
    private readonly Workspace _workspace;
    private readonly JobQueue _jobs;

    public GetJob(Workspace workspace, JobQueue jobs)
    {
        _workspace = workspace;
        _jobs = jobs;
    }

    public async Task<JobView> ExecuteAsync(GetJobRequest request, CancellationToken cancellationToken)
        => await _jobs.GetAsync(_workspace, request.Id, cancellationToken) ?? throw JobQueue.NotFound(request.Id);
}
