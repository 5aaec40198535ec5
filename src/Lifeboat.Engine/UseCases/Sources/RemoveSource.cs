using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Sources;

public sealed record RemoveSourceRequest(string Name);

public sealed record RemoveSourceResult(string Name, string Kind, string ConfigPath);

/// <summary>
/// `source remove`: forgets a source's configuration (destructive: approval gate). Its backups stay in the repository
/// until they expire or are forgotten. Refused while a stack or a schedule uses it.
/// </summary>
public sealed class RemoveSource : IUseCase<RemoveSourceRequest, RemoveSourceResult>
{
    private readonly Workspace _workspace;
    private readonly IApprovalGate _gate;
    private readonly Events _events;
    private readonly MaintenanceGate _maintenance;
    private readonly OperationLocks _locks;

    public RemoveSource(Workspace workspace, IApprovalGate gate, Events events, MaintenanceGate maintenance, OperationLocks locks)
    {
        _maintenance = maintenance;
        _locks = locks;
        _workspace = workspace;
        _gate = gate;
        _events = events;
    }

    public async Task<RemoveSourceResult> ExecuteAsync(RemoveSourceRequest request, CancellationToken cancellationToken)
    {
        var source = _workspace.GetSource(request.Name);
        var stacks = _workspace.Options.Stacks.Where(s => s.Value.Sources.Contains(request.Name)).Select(s => s.Key).ToList();
        var schedules = _workspace.Options.Schedules.Where(s => s.Value.Source == request.Name).Select(s => s.Key).ToList();
        if (stacks.Count > 0 || schedules.Count > 0)
        {
            throw new LifeboatException(ErrorCode.Refused, $"source '{request.Name}' is used by " + string.Join(" and ", new[] { stacks.Count > 0 ? "the stack(s) " + string.Join(", ", stacks) : null, schedules.Count > 0 ? "the schedule(s) " + string.Join(", ", schedules) : null }.Where(x => x is not null)), "remove it from those first (`lifeboat stack remove`, or edit the configuration)");
        }

        await _maintenance.EnsureOpenAsync(request.Name, $"removal of source '{request.Name}'", cancellationToken);
        using var held = _locks.Hold(request.Name, "source removal");
        await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.RemoveSource, request.Name, $"remove the {source.Kind} source '{request.Name}' from the configuration (its backups stay)", new Dictionary<string, string?> { ["name"] = request.Name, ["kind"] = source.Kind }), cancellationToken);
        _workspace.EditConfig(root => ConfigFile.Section(root, "Sources").Remove(request.Name));
        await _events.PublishAsync(new ConfigurationChanged("source", "removed", request.Name, source.Kind), cancellationToken);
        return new RemoveSourceResult(request.Name, source.Kind, _workspace.Config.Path);
    }
}
