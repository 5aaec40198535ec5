using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;

namespace Lifeboat.Engine.UseCases.Targets;

public sealed record RemoveTargetRequest(string Name);

/// <param name="Url">The replica's place (redacted); its data was not touched.</param>
public sealed record RemoveTargetResult(string Name, string Url, string ConfigPath);

/// <summary>`repo target remove`: forgets a secondary target (destructive: approval gate). Its data stays where it is.</summary>
public sealed class RemoveTarget : IUseCase<RemoveTargetRequest, RemoveTargetResult>
{
    private readonly Workspace _workspace;
    private readonly IApprovalGate _gate;
    private readonly Events _events;

    public RemoveTarget(Workspace workspace, IApprovalGate gate, Events events)
    {
        _workspace = workspace;
        _gate = gate;
        _events = events;
    }

    public async Task<RemoveTargetResult> ExecuteAsync(RemoveTargetRequest request, CancellationToken cancellationToken)
    {
        var target = _workspace.Target(request.Name);
        if (target.IsPrimary)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "the primary target is the repository itself (Repository:Url) and cannot be removed", "to move the repository, replicate to a new target and make its URL Repository:Url");
        }

        await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.RemoveTarget, null, $"remove the target '{target.Name}' ({Redact.Url(target.Url)}) from the configuration", new Dictionary<string, string?> { ["name"] = target.Name, ["url"] = Redact.Url(target.Url) }), cancellationToken);
        _workspace.EditConfig(root =>
        {
            var targets = ConfigFile.Section(root, "Targets");
            targets.Remove(target.Name);
            if (targets.Count == 0)
            {
                root.Remove("Targets");
            }
        });
        await _events.PublishAsync(new ConfigurationChanged("target", "removed", target.Name, null, Redact.Url(target.Url)), cancellationToken);
        return new RemoveTargetResult(target.Name, Redact.Url(target.Url), _workspace.Config.Path);
    }
}
