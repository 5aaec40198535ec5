using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.Operations;

/// <summary>What expire does to a source's archived WAL.</summary>
public sealed record WalPlan(int Kept, int Deleted, long DeletedBytes, string? ContinuousFrom, IReadOnlyList<string> DeletedObjects);

public sealed record ExpireSourcePlan(string Source, RetentionPolicy Policy, IReadOnlyList<RetentionDecision> Decisions, WalPlan? Wal);

public sealed record ExpireReport(IReadOnlyList<ExpireSourcePlan> Sources, PruneReport? Prune, bool DryRun)
{
    public int Deleted => Sources.Sum(s => s.Decisions.Count(d => !d.Keep));
}

/// <summary>
/// `lifeboat expire`: applies each source's retention policy, explains every decision, deletes the expired backups and
/// the WAL that no retained backup and no part of a PITR window needs, then prunes. Deleting a backup never breaks
/// another (backups do not depend on each other).
/// </summary>
public static class ExpireService
{
    public static async Task<ExpireReport> RunAsync(EngineContext context, string? sourceName, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            return await RunCoreAsync(context, sourceName, dryRun, progress, cancellationToken);
        }

        var report = await RunRecorder.RecordAsync(
            context,
            Catalog.JobKinds.Expire,
            sourceName,
            null,
            () => RunCoreAsync(context, sourceName, dryRun, progress, cancellationToken),
            r => new RunFigures(0, -(r.Prune?.BytesFreed ?? 0), null, $"{{\"deleted\":{r.Deleted}}}"),
            cancellationToken);
        await RunRecorder.ForgetBackupsAsync(context, report.Sources.SelectMany(s => s.Decisions).Where(d => !d.Keep).Select(d => d.Id), cancellationToken);
        return report;
    }

    private static async Task<ExpireReport> RunCoreAsync(EngineContext context, string? sourceName, bool dryRun, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var sources = sourceName is null
            ? context.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList()
            : [KeyValuePair.Create(sourceName, context.GetSource(sourceName))];
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: !dryRun, dryRun ? "expire --dry-run" : "expire", cancellationToken);
        progress?.Report("reading manifests");
        var (manifests, damaged) = await repository.LoadAllManifestsAsync(cancellationToken);
        var pinned = await repository.PinnedAsync(cancellationToken);
        var now = context.Time.GetUtcNow();
        var plans = new List<ExpireSourcePlan>();
        foreach (var (name, source) in sources)
        {
            var policy = source.Retention.ToPolicy();
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
            return new ExpireReport(plans, null, dryRun);
        }

        if (damaged.Count > 0)
        {
            throw new DamageException($"expire refuses to delete while {damaged.Count} manifest(s) are damaged ({string.Join(", ", damaged.Select(d => d.Id))})", damaged.Select(d => ObjectNames.Backup(d.Id)).ToList(), damaged.Select(d => d.Id).ToList(), "`lifeboat verify` shows the damage; forget the damaged backups explicitly first");
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
        return new ExpireReport(plans, prune, false);
    }

    /// <summary>
    /// The WAL to keep: each retained backup's own range (start to stop segment), and from the base of the PITR window
    /// (or, without a window, from the oldest retained backup) everything after it. Timeline history files stay.
    /// </summary>
    private static async Task<WalPlan> PlanWalAsync(Lifeboat.Repository.Repository repository, string name, SourceOptions source, List<Manifest> manifests, IReadOnlyList<RetentionDecision> decisions, RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var kept = decisions.Where(d => d.Keep).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var infos = manifests.Select(m => (m.Id, Info: ClusterBackupInfo.FromDetails(m.Details))).Where(x => x.Info is not null).ToList();
        var deleted = new List<string>();
        var keptCount = 0;
        long deletedBytes = 0;
        string? continuousFrom = null;
        foreach (var sysid in infos.Select(x => x.Info!.SystemId).Append(source.SystemIdValue()).Distinct())
        {
            var ofCluster = infos.Where(x => x.Info!.SystemId == sysid).ToList();
            var segmentSize = ofCluster.FirstOrDefault().Info?.WalSegmentSize ?? WalFileName.DefaultSegmentSize;
            var archive = new WalArchive(repository, name, sysid, segmentSize);
            var retained = ofCluster.Where(x => kept.Contains(x.Id)).Select(x => x.Info!).ToList();
            var ranges = retained.Select(i => (From: i.Start.Segment(segmentSize), To: new Lsn(i.Stop.Value - 1).Segment(segmentSize))).ToList();
            ulong? openFrom = null;
            if (retained.Count > 0)
            {
                var anchorId = decisions.FirstOrDefault(d => d.Keep && d.Reasons.Any(r => r.StartsWith("needed for the PITR window", StringComparison.Ordinal)))?.Id;
                var anchor = policy.PitrWindow is not null && anchorId is not null
                    ? ofCluster.FirstOrDefault(x => x.Id == anchorId).Info
                    : retained.OrderBy(i => i.Start).First();
                if (anchor is not null)
                {
                    openFrom = anchor.Start.Segment(segmentSize);
                    continuousFrom = WalFileName.SegmentName(anchor.Timeline, openFrom.Value, segmentSize);
                }
            }

            foreach (var wal in await archive.ListAsync(cancellationToken))
            {
                var needed = wal.Wal.Kind == WalFileKind.History
                    || (openFrom is { } from && wal.Wal.SegmentNumber >= from)
                    || ranges.Any(r => wal.Wal.SegmentNumber >= r.From && wal.Wal.SegmentNumber <= r.To);
                if (needed)
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
