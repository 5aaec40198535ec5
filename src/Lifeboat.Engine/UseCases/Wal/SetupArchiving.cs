using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;

namespace Lifeboat.Engine.UseCases.Wal;

/// <param name="Apply">Apply the settings with ALTER SYSTEM and reload (otherwise only report them).</param>
/// <param name="ArchiveTimeout">archive_timeout in seconds: the longest an idle server waits before archiving (bounds the RPO).</param>
public sealed record SetupArchivingRequest(string Source, bool Apply = false, int ArchiveTimeout = 60);

/// <summary>
/// `archiving setup`: the settings continuous WAL archiving needs (wal_level, archive_mode, archive_command calling this
/// program's wal-push with this configuration, archive_timeout), reported, or applied with ALTER SYSTEM and a reload.
/// </summary>
public sealed class SetupArchiving : IUseCase<SetupArchivingRequest, ArchivingPlan>
{
    private readonly Workspace _workspace;

    public SetupArchiving(Workspace workspace) => _workspace = workspace;

    public Task<ArchivingPlan> ExecuteAsync(SetupArchivingRequest request, CancellationToken cancellationToken)
    {
        var (name, options) = ClusterSources.Resolve(_workspace, request.Source);
        var command = LifeboatCommand.ArchiveCommand(LifeboatCommand.Self(_workspace.Environment), _workspace.Config.Path, name);
        return ArchivingSetup.RunAsync(options, command, TimeSpan.FromSeconds(request.ArchiveTimeout), request.Apply, cancellationToken);
    }
}
