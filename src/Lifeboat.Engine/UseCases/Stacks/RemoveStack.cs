using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Stacks;

public sealed record RemoveStackRequest(string Name);

public sealed record RemoveStackResult(string Name, string ConfigPath);

/// <summary>`stack remove`: forgets a stack definition; its sources and every backup stay.</summary>
public sealed class RemoveStack : IUseCase<RemoveStackRequest, RemoveStackResult>
{
    private readonly Workspace _workspace;
    private readonly Events _events;

    public RemoveStack(Workspace workspace, Events events)
    {
        _workspace = workspace;
        _events = events;
    }

    public async Task<RemoveStackResult> ExecuteAsync(RemoveStackRequest request, CancellationToken cancellationToken)
    {
        _workspace.GetStack(request.Name);
        var schedules = _workspace.Options.Schedules.Where(s => s.Value.Stack == request.Name).Select(s => s.Key).ToList();
        if (schedules.Count > 0)
        {
            throw new LifeboatException(ErrorCode.Refused, $"stack '{request.Name}' is run by the schedule(s) {string.Join(", ", schedules)}", "remove those schedules first");
        }

        _workspace.EditConfig(root => ConfigFile.Section(root, "Stacks").Remove(request.Name));
        await _events.PublishAsync(new ConfigurationChanged("stack", "removed", request.Name), cancellationToken);
        return new RemoveStackResult(request.Name, _workspace.Config.Path);
    }
}
