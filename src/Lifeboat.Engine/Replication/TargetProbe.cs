using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository;
using Lifeboat.Targets;

namespace Lifeboat.Engine.Replication;

/// <summary>One step of a target probe: what was tried, whether it worked, how long it took, and the error when not.</summary>
public sealed record ProbeStep(string Name, string Permission, bool Ok, TimeSpan Latency, string? Detail);

/// <summary>What <c>lifeboat target verify</c> found: each step, and what the target holds.</summary>
public sealed record ProbeReport(ConfiguredTarget Target, IReadOnlyList<ProbeStep> Steps, string Holds)
{
    public bool Ok => Steps.All(s => s.Ok);
}

/// <summary>
/// Proves a target usable before a backup depends on it: writes a probe object (<c>lifeboat-probe-*</c>, which the
/// repository never lists and a replica check ignores; a temporary <c>.tmp-</c> name would be hidden from the listing),
/// stats it, reads it back and compares, lists it, checks that an existing object is not overwritten, deletes it and
/// checks that it is gone. Each step is timed, and a failed step names the permission the credentials lack. Then says
/// what the target holds (this repository, nothing, or something else).
/// </summary>
public static class TargetProbe
{
    /// <summary>The probe object's name starts so (repository format, section 2).</summary>
    public const string ProbePrefix = ReplicaIdentity.ProbePrefix;

    private const int ProbeSize = 64 * 1024;

    public static async Task<ProbeReport> RunAsync(EngineContext context, ConfiguredTarget configured, CancellationToken cancellationToken)
    {
        // One attempt per step: the probe reports what happens, it does not wait out an outage.
        await using var target = context.OpenTarget(configured.Url, new RetryOptions { MaxAttempts = 1 }, null);
        var name = ProbePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var content = RandomNumberGenerator.GetBytes(ProbeSize);
        var steps = new List<ProbeStep>();
        var written = await StepAsync(context, steps, "write", "create objects", async ct =>
        {
            await target.SaveAsync(name, ObjectSource.FromBytes(content), SaveMode.Create, ct);
            return $"{ByteSize.Format(ProbeSize)} as {name}";
        }, cancellationToken);
        if (written)
        {
            await StepAsync(context, steps, "stat", "read object metadata", async ct =>
            {
                var info = await target.StatAsync(name, ct);
                return info is null ? throw new LifeboatException(ErrorCode.TargetFailed, "the object just written is not there")
                    : info.Size == ProbeSize ? null : throw new LifeboatException(ErrorCode.TargetFailed, $"the object just written has {info.Size} bytes, not {ProbeSize}");
            }, cancellationToken);
            await StepAsync(context, steps, "read", "read objects", async ct =>
            {
                var back = await target.ReadAllAsync(name, ct);
                return back.AsSpan().SequenceEqual(content) ? null : throw new LifeboatException(ErrorCode.Damage, $"the object read back differs from what was written ({back.Length} bytes)");
            }, cancellationToken);
            await StepAsync(context, steps, "list", "list objects", async ct =>
            {
                var found = await target.ListAllAsync(ProbePrefix, ct);
                return found.Any(o => o.Name == name) ? null : throw new LifeboatException(ErrorCode.TargetFailed, "the object just written is not listed");
            }, cancellationToken);
            await StepAsync(context, steps, "no-overwrite", "refuse to overwrite", async ct =>
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
            await StepAsync(context, steps, "delete", "delete objects (expire, prune)", async ct =>
            {
                await target.DeleteAsync(name, ct);
                return await target.StatAsync(name, ct) is null ? null : throw new LifeboatException(ErrorCode.TargetFailed, "the object is still there after delete");
            }, cancellationToken);
        }

        return new ProbeReport(configured, steps, await HoldsAsync(context, configured, target, cancellationToken));
    }

    private static async Task<bool> StepAsync(EngineContext context, List<ProbeStep> steps, string name, string permission, Func<CancellationToken, Task<string?>> step, CancellationToken cancellationToken)
    {
        var started = context.Time.GetTimestamp();
        try
        {
            var detail = await step(cancellationToken);
            steps.Add(new ProbeStep(name, permission, true, context.Time.GetElapsedTime(started), detail));
            return true;
        }
        catch (LifeboatException ex)
        {
            var what = ex is TargetException { Kind: TargetErrorKind.AccessDenied or TargetErrorKind.AuthenticationFailed } ? $"permission denied ({permission}): " : "";
            steps.Add(new ProbeStep(name, permission, false, context.Time.GetElapsedTime(started), what + ex.Message));
            return false;
        }
    }

    private static async Task<string> HoldsAsync(EngineContext context, ConfiguredTarget configured, ITarget target, CancellationToken cancellationToken)
    {
        if (configured.IsPrimary)
        {
            return await target.StatAsync(Repository.Format.ObjectNames.Config, cancellationToken) is null ? "no repository" : "the repository (primary)";
        }

        try
        {
            await using var primary = await context.OpenRepositoryAsync(cancellationToken);
            return await ReplicaIdentity.CheckAsync(primary, target, cancellationToken) == ReplicaState.SameRepository
                ? $"a replica of repository {primary.Config.Id}"
                : "nothing yet: `lifeboat replicate --to " + configured.Name + "` makes it a replica";
        }
        catch (LifeboatException ex)
        {
            return "unknown: " + ex.Message;
        }
    }
}
