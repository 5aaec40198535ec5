using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.UseCases.Targets;

/// <param name="To">Only this secondary target; null: every secondary.</param>
public sealed record ReplicateRequest(string? To = null);

/// <summary>`replicate`: copies what the secondary targets miss, verifying every copy; a failed target is reported with the others.</summary>
public sealed class Replicate : IUseCase<ReplicateRequest, ReplicateReport>
{
    private readonly Workspace _workspace;
    private readonly Replicator _replicator;

    public Replicate(Workspace workspace, Replicator replicator)
    {
        _workspace = workspace;
        _replicator = replicator;
    }

    public Task<ReplicateReport> ExecuteAsync(ReplicateRequest request, CancellationToken cancellationToken)
    {
        if (_workspace.Options.Targets.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"there are no secondary targets in {_workspace.Config.Path}", "add one with `lifeboat repo target add NAME URL`");
        }

        return _replicator.RunAsync(request.To, afterBackup: false, cancellationToken);
    }
}
