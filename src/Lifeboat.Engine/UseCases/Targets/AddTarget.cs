using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Repository;

namespace Lifeboat.Engine.UseCases.Targets;

/// <param name="Name">Lower-case letters, digits, '.', '_', '-'; not <c>primary</c>.</param>
/// <param name="Url">file:///abs/path, s3://…, azure://…, sftp://… (no secrets in the URL).</param>
/// <param name="Retention">This target's retention (<see cref="RetentionSpec"/>); null: each source's own.</param>
/// <param name="NoWalPush">wal-push does not write here; WAL arrives by replication only.</param>
/// <param name="Manual">Not replicated after every backup; only an explicit replicate copies here.</param>
public sealed record AddTargetRequest(string Name, string Url, string? Retention = null, bool NoWalPush = false, bool Manual = false);

/// <param name="Started">The target was empty: the replica was started (key slots and config written).</param>
/// <param name="Retention">The target's retention for people, or "each source's own".</param>
public sealed record AddTargetResult(string Name, string Url, string ConfigPath, bool Started, string Repository, string Retention, bool PushWal, bool ReplicateAfterBackup);

/// <summary>
/// `repo target add`: checks the target can be used (reachable, empty or already holding this repository), starts the
/// replica there, and records the target in the configuration. Copying happens on the next backup or replicate.
/// </summary>
public sealed class AddTarget : IUseCase<AddTargetRequest, AddTargetResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Events _events;

    public AddTarget(Workspace workspace, RepositoryOpener opener, Events events)
    {
        _workspace = workspace;
        _opener = opener;
        _events = events;
    }

    public async Task<AddTargetResult> ExecuteAsync(AddTargetRequest request, CancellationToken cancellationToken)
    {
        TargetOptions.ValidateName(request.Name, "target name");
        if (_workspace.Options.Targets.ContainsKey(request.Name))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is already a target '{request.Name}' in {_workspace.Config.Path}", $"remove it first with `lifeboat repo target remove {request.Name}`, or choose another name");
        }

        var policy = request.Retention is { } spec ? RetentionSpec.Parse(spec, "retention") : null;
        var options = new TargetOptions { Url = request.Url, Retention = policy, PushWal = !request.NoWalPush, ReplicateAfterBackup = !request.Manual };
        var probe = new LifeboatOptions { Repository = _workspace.Options.Repository, Targets = new(_workspace.Options.Targets) { [request.Name] = options } };
        TargetOptions.ValidateAll(probe, _workspace.Config.Path);

        // The target must be reachable and empty or hold this repository; start the replica there now.
        await using var primary = await _opener.OpenAsync(cancellationToken);
        await using var target = _opener.OpenTarget(request.Url);
        var state = await ReplicaIdentity.CheckAsync(primary, target, cancellationToken);
        if (state == ReplicaState.Empty)
        {
            await ReplicaIdentity.StartAsync(primary, target, cancellationToken);
        }

        _workspace.EditConfig(root => ConfigFile.Section(root, "Targets")[request.Name] = ConfigJson.Section(options));
        await _events.PublishAsync(new ConfigurationChanged("target", "added", request.Name, null, Redact.Url(request.Url)), cancellationToken);
        return new AddTargetResult(
            request.Name,
            Redact.Url(request.Url),
            _workspace.Config.Path,
            state == ReplicaState.Empty,
            primary.Config.Id,
            policy is null ? "each source's own" : policy.ToPolicy().ToString(),
            options.PushWal,
            options.ReplicateAfterBackup);
    }
}
