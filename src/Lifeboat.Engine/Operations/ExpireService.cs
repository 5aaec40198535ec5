using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;
using Lifeboat.Targets;

namespace Lifeboat.Engine.Operations;

/// <summary>What expire does to a source's archived WAL.</summary>
public sealed record WalPlan(int Kept, int Deleted, long DeletedBytes, string? ContinuousFrom, IReadOnlyList<string> DeletedObjects);

public sealed record ExpireSourcePlan(string Source, RetentionPolicy Policy, IReadOnlyList<RetentionDecision> Decisions, WalPlan? Wal);

public sealed record ExpireReport(IReadOnlyList<ExpireSourcePlan> Sources, PruneReport? Prune, bool DryRun)
{
    /// <summary>Backups deleted on the primary target.</summary>
    public int Deleted => Sources.Sum(s => s.Decisions.Count(d => !d.Keep));

    /// <summary>Every target expire ran on, the primary first (its plans are also <see cref="Sources"/> and <see cref="Prune"/>).</summary>
    public IReadOnlyList<ExpireTargetReport> Targets { get; init; } = [];

    /// <summary>The targets that failed; expire went on with the others.</summary>
    public IEnumerable<ExpireTargetReport> Failures => Targets.Where(t => t.Error is not null);
}

/// <summary>What expire did on one target, with that target's retention; <see cref="Error"/> when it failed there.</summary>
public sealed record ExpireTargetReport(string Target, IReadOnlyList<ExpireSourcePlan> Sources, PruneReport? Prune, LifeboatException? Error = null)
{
    public int Deleted => Sources.Sum(s => s.Decisions.Count(d => !d.Keep));
}

/// <summary>
/// `lifeboat expire`: on every target (the primary, then each secondary), applies that target's retention policy
/// (Targets:NAME:Retention, else each source's own), explains every decision, deletes the expired backups and the WAL that
/// no retained backup and no part of a PITR window needs, then prunes. Each target is pruned against its own manifests and
/// its own index (repository format, section 20), so a secondary may keep backups the primary expired long ago. A target
/// that fails is reported; the others still expire. Deleting a backup never breaks another.
/// </summary>
public static class ExpireService
{
    public static Task<ExpireReport> RunAsync(EngineContext context, string? sourceName, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
        => RunAsync(context, sourceName, null, dryRun, progress, cancellationToken);

    /// <param name="targetName">Only this target (<c>primary</c> or a secondary); null: every target.</param>
    public static async Task<ExpireReport> RunAsync(EngineContext context, string? sourceName, string? targetName, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var sources = sourceName is null
            ? context.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList()
            : [KeyValuePair.Create(sourceName, context.GetSource(sourceName))];
        var targets = targetName is null ? context.All() : [context.Target(targetName)];
        var reports = new List<ExpireTargetReport>();
        foreach (var target in targets)
        {
            if (targets.Count > 1)
            {
                progress?.Report($"target {target.Name}");
            }

            try
            {
                reports.Add(await RunOnTargetAsync(context, target, sourceName, sources, dryRun, progress, cancellationToken));
            }
            catch (LifeboatException ex) when (targets.Count > 1)
            {
                reports.Add(new ExpireTargetReport(target.Name, [], null, ex));
            }
        }

        var first = reports[0];
        return new ExpireReport(first.Sources, first.Prune, dryRun) { Targets = reports };
    }

    private static async Task<ExpireTargetReport> RunOnTargetAsync(EngineContext context, ConfiguredTarget target, string? sourceName, List<KeyValuePair<string, SourceOptions>> sources, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            return await ExpireOnAsync(context, target, sources, dryRun, progress, cancellationToken);
        }

        var report = await RunRecorder.RecordAsync(
            context,
            Catalog.JobKinds.Expire,
            sourceName,
            target.IsPrimary ? null : target.Name,
            () => ExpireOnAsync(context, target, sources, dryRun, progress, cancellationToken),
            r => new RunFigures(0, -(r.Prune?.BytesFreed ?? 0), null, $"{{\"deleted\":{r.Deleted}}}"),
            cancellationToken);
        if (target.IsPrimary)
        {
            // The catalog caches the primary's backups; a secondary's are its own business.
            await RunRecorder.ForgetBackupsAsync(context, report.Sources.SelectMany(s => s.Decisions).Where(d => !d.Keep).Select(d => d.Id), cancellationToken);
        }

        return report;
    }

    private static async Task<ExpireTargetReport> ExpireOnAsync(EngineContext context, ConfiguredTarget target, List<KeyValuePair<string, SourceOptions>> sources, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        await using var repository = target.IsPrimary
            ? await context.OpenRepositoryAsync(cancellationToken)
            : await OpenSecondaryAsync(context, target, cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: !dryRun, dryRun ? "expire --dry-run" : "expire", cancellationToken);
        progress?.Report("reading manifests");
        var (manifests, damaged) = await repository.LoadAllManifestsAsync(cancellationToken);
        var pinned = await repository.PinnedAsync(cancellationToken);
        var now = context.Time.GetUtcNow();
        var plans = new List<ExpireSourcePlan>();
        foreach (var (name, source) in sources)
        {
            var policy = target.PolicyFor(source);
            var own = manifests.Where(m => m.Source == name).ToList();
            var candidates = own.Select(m => new RetentionCandidate(m.Id, m.Started, pinned.Contains(m.Id), ClusterBackupInfo.FromDetails(m.Details)?.StopTime)).ToList();
            var decisions = RetentionPlanner.Plan(candidates, policy, now);
            WalPlan? wal = null;
            if (source.Kind == SourceKinds.Cluster && !policy.KeepsEverything)
            {
                wal = await PlanWalAsync(repository, name, source, own, decisions, policy, cancellationToken);
            }

            plans.Add(new ExpireSourcePlan(name, policy, decisions, wal));
        }

        if (dryRun || plans.All(p => p.Decisions.All(d => d.Keep) && (p.Wal is null || p.Wal.Deleted == 0)))
        {
            return new ExpireTargetReport(target.Name, plans, null);
        }

        if (damaged.Count > 0)
        {
            throw new DamageException($"expire refuses to delete while {damaged.Count} manifest(s) of {repository.DisplayName} are damaged ({string.Join(", ", damaged.Select(d => d.Id))})", damaged.Select(d => ObjectNames.Backup(d.Id)).ToList(), damaged.Select(d => d.Id).ToList(), "`lifeboat verify` shows the damage; forget the damaged backups explicitly first");
        }

        foreach (var plan in plans)
        {
            foreach (var decision in plan.Decisions.Where(d => !d.Keep))
            {
                progress?.Report($"deleting backup {decision.Id}");
                await repository.DeleteManifestAsync(decision.Id, cancellationToken);
            }

            foreach (var name in plan.Wal?.DeletedObjects ?? [])
            {
                await repository.Target.DeleteAsync(name, cancellationToken);
            }
        }

        var brokenStacks = await StackService.ForgetBrokenAsync(repository, plans.SelectMany(p => p.Decisions.Where(d => !d.Keep).Select(d => d.Id)).ToHashSet(StringComparer.Ordinal), cancellationToken);
        foreach (var stack in brokenStacks)
        {
            progress?.Report($"forgetting stack backup {stack} (a member expired)");
        }

        progress?.Report("pruning");
        var prune = await new Pruner(repository).PruneAsync(new PruneOptions(), progress, cancellationToken);
        return new ExpireTargetReport(target.Name, plans, prune);
    }

    /// <summary>A secondary is opened on its own (its config and key slots): expire works there when the primary is gone.</summary>
    private static async Task<Lifeboat.Repository.Repository> OpenSecondaryAsync(EngineContext context, ConfiguredTarget target, CancellationToken cancellationToken)
    {
        FailFastTarget? gate = null;
        var repository = await context.OpenRepositoryAsync(context.OpenTarget(target.Url, null, t => gate = new FailFastTarget(t)), cancellationToken);
        gate!.Enabled = false;
        return repository;
    }

    /// <summary>The WAL to delete: what <see cref="WalRetention"/> does not keep.</summary>
    private static async Task<WalPlan> PlanWalAsync(Lifeboat.Repository.Repository repository, string name, SourceOptions source, List<Manifest> manifests, IReadOnlyList<RetentionDecision> decisions, RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var deleted = new List<string>();
        var keptCount = 0;
        long deletedBytes = 0;
        string? continuousFrom = null;
        foreach (var rule in WalRetention.Rules(manifests, source.SystemIdValue(), decisions, policy))
        {
            continuousFrom = rule.ContinuousFrom ?? continuousFrom;
            var archive = new WalArchive(repository, name, rule.SystemId, rule.SegmentSize);
            foreach (var wal in await archive.ListAsync(cancellationToken))
            {
                if (rule.Keeps(wal.Wal))
                {
                    keptCount++;
                }
                else
                {
                    deleted.Add(wal.ObjectName);
                    deletedBytes += wal.StoredSize;
                }
            }
        }

        return new WalPlan(keptCount, deleted.Count, deletedBytes, continuousFrom, deleted);
    }
}
