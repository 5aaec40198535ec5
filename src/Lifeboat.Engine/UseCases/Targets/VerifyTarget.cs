using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;
using Lifeboat.Repository;
using Lifeboat.Targets;

namespace Lifeboat.Engine.UseCases.Targets;

/// <param name="Name">The target: <c>primary</c>, or a secondary's name.</param>
public sealed record VerifyTargetRequest(string Name);

/// <summary>One step of a target probe: what was tried, whether it worked, how long it took, and the error when not.</summary>
public sealed record ProbeStep(string Step, string Permission, bool Ok, double LatencyMs, string? Detail);

/// <summary>What <c>lifeboat target verify</c> found: each step, and what the target holds.</summary>
/// <param name="Url">The target's URL, redacted.</param>
public sealed record VerifyTargetResult(string Target, string Url, bool Ok, string Holds, IReadOnlyList<ProbeStep> Steps)
{
    /// <summary>The target's name and redacted URL, for people.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Display => $"{Target} ({Url})";
}

/// <summary>
/// Proves a target usable before a backup depends on it: writes a probe object (<c>lifeboat-probe-*</c>, which the
/// repository never lists and a replica check ignores; a temporary <c>.tmp-</c> name would be hidden from the listing),
/// stats it, reads it back and compares, lists it, checks that an existing object is not overwritten, deletes it and
/// checks that it is gone. Each step is timed, and a failed step names the permission the credentials lack. Then says
/// what the target holds (this repository, nothing, or something else).
/// </summary>
public sealed class VerifyTarget : IUseCase<VerifyTargetRequest, VerifyTargetResult>
{
    /// <summary>The probe object's name starts so (repository format, section 2).</summary>
    public const string ProbePrefix = ReplicaIdentity.ProbePrefix;

    private const int ProbeSize = 64 * 1024;
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly TimeProvider _time;

    public VerifyTarget(Workspace workspace, RepositoryOpener opener, TimeProvider time)
    {
        _workspace = workspace;
        _opener = opener;
        _time = time;
    }

    public async Task<VerifyTargetResult> ExecuteAsync(VerifyTargetRequest request, CancellationToken cancellationToken)
    {
        var configured = _workspace.Target(request.Name);

        // One attempt per step: the probe reports what happens, it does not wait out an outage.
        await using var target = _opener.OpenTarget(configured.Url, new RetryOptions { MaxAttempts = 1 }, null);
        var name = ProbePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var content = RandomNumberGenerator.GetBytes(ProbeSize);
        var steps = new List<ProbeStep>();
        var written = await StepAsync(steps, "write", "create objects", async ct =>
        {
            await target.SaveAsync(name, ObjectSource.FromBytes(content), SaveMode.Create, ct);
            return $"{ByteSize.Format(ProbeSize)} as {name}";
        }, cancellationToken);
        if (written)
        {
            await StepAsync(steps, "stat", "read object metadata", async ct =>
            {
                var info = await target.StatAsync(name, ct);
                return info is null ? throw new LifeboatException(ErrorCode.TargetFailed, "the object just written is not there")
                    : info.Size == ProbeSize ? null : throw new LifeboatException(ErrorCode.TargetFailed, $"the object just written has {info.Size} bytes, not {ProbeSize}");
            }, cancellationToken);
            await StepAsync(steps, "read", "read objects", async ct =>
            {
                var back = await target.ReadAllAsync(name, ct);
                return back.AsSpan().SequenceEqual(content) ? null : throw new LifeboatException(ErrorCode.Damage, $"the object read back differs from what was written ({back.Length} bytes)");
            }, cancellationToken);
            await StepAsync(steps, "list", "list objects", async ct =>
            {
                var found = await target.ListAllAsync(ProbePrefix, ct);
                return found.Any(o => o.Name == name) ? null : throw new LifeboatException(ErrorCode.TargetFailed, "the object just written is not listed");
            }, cancellationToken);
            await StepAsync(steps, "no-overwrite", "refuse to overwrite", async ct =>
            {
                try
                {
                    await target.SaveAsync(name, ObjectSource.FromBytes(new byte[16]), SaveMode.Create, ct);
                }
                catch (TargetException ex) when (ex.Kind == TargetErrorKind.AlreadyExists)
                {
                    return "an existing object was kept";
                }

                throw new LifeboatException(ErrorCode.TargetFailed, "an existing object was overwritten: wal-push relies on create-if-absent");
            }, cancellationToken);
            await StepAsync(steps, "delete", "delete objects (expire, prune)", async ct =>
            {
                await target.DeleteAsync(name, ct);
                return await target.StatAsync(name, ct) is null ? null : throw new LifeboatException(ErrorCode.TargetFailed, "the object is still there after delete");
            }, cancellationToken);
        }

        var holds = await HoldsAsync(configured, target, cancellationToken);
        return new VerifyTargetResult(configured.Name, Redact.Url(configured.Url), steps.All(s => s.Ok), holds, steps);
    }

    private async Task<bool> StepAsync(List<ProbeStep> steps, string name, string permission, Func<CancellationToken, Task<string?>> step, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        try
        {
            var detail = await step(cancellationToken);
            steps.Add(new ProbeStep(name, permission, true, Milliseconds(started), detail));
            return true;
        }
        catch (LifeboatException ex)
        {
            var what = ex is TargetException { Kind: TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed } ? $"permission denied ({permission}): " : "";
            steps.Add(new ProbeStep(name, permission, false, Milliseconds(started), what + ex.Message));
            return false;
        }
    }

    private async Task<string> HoldsAsync(ConfiguredTarget configured, ITarget target, CancellationToken cancellationToken)
    {
        if (configured.IsPrimary)
        {
            return await target.StatAsync(Repository.Format.ObjectNames.Config, cancellationToken) is null ? "no repository" : "the repository (primary)";
        }

        try
        {
            await using var primary = await _opener.OpenAsync(cancellationToken);
            return await ReplicaIdentity.CheckAsync(primary, target, cancellationToken) == ReplicaState.SameRepository
                ? $"a replica of repository {primary.Config.Id}"
                : "nothing yet: `lifeboat replicate --to " + configured.Name + "` makes it a replica";
        }
        catch (LifeboatException ex)
        {
            return "unknown: " + ex.Message;
        }
    }

    private double Milliseconds(long started) => Math.Round(_time.GetElapsedTime(started).TotalMilliseconds, 1);
}
