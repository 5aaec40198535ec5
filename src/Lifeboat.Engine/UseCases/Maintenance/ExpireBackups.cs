using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;
using Lifeboat.Targets;

namespace Lifeboat.Engine.UseCases.Maintenance;

/// <param name="Source">Only this source.</param>
/// <param name="Target">Only this target (<c>primary</c> or a secondary); null: every target.</param>
/// <param name="DryRun">Explain every decision and delete nothing.</param>
public sealed record ExpireBackupsRequest(string? Source = null, bool DryRun = false, string? Target = null);

/// <summary>What expire does to a source's archived WAL.</summary>
public sealed record WalPlan(int Kept, int Deleted, long DeletedBytes, string? ContinuousFrom, [property: JsonIgnore] IReadOnlyList<string> DeletedObjects);

/// <summary>A source's retention on one target: every backup's decision with its reasons, and the WAL plan.</summary>
public sealed record ExpireSourcePlan([property: JsonPropertyOrder(-2)] string Source, [property: JsonIgnore] RetentionPolicy Policy, IReadOnlyList<RetentionDecision> Decisions, WalPlan? Wal)
{
    [JsonPropertyName("policy")]
    [JsonPropertyOrder(-1)]
    public string PolicyText => Policy.ToString();
}

/// <summary>What expire did on one target, with that target's retention; <see cref="Failure"/> when it failed there.</summary>
public sealed record ExpireTargetReport([property: JsonPropertyOrder(1)] string Target, IReadOnlyList<ExpireSourcePlan> Sources, [property: JsonIgnore] PruneReport? Prune)
{
    [JsonIgnore]
    public int Deleted => Sources.Sum(s => s.Decisions.Count(d => !d.Keep));

    public long? BytesFreed => Prune?.BytesFreed;

    [JsonPropertyOrder(1)]
    public string? Error => Failure?.Message;

    /// <summary>
    /// Internal, so that the JSON source generator does not describe the exception (Exception.TargetSite is not
    /// trim-safe: it broke the Native AOT publish); adapters read it with <see cref="FailureDetails"/>.
    /// </summary>
    internal LifeboatException? Failure { get; init; }

    /// <summary>Why expire failed on this target (code, message, hint), or null.</summary>
    public LifeboatException? FailureDetails() => Failure;
}

/// <summary>What expire decided and did, per source and per target.</summary>
public sealed record ExpireReport(IReadOnlyList<ExpireSourcePlan> Sources, [property: JsonIgnore] PruneReport? Prune, [property: JsonPropertyOrder(1)] bool DryRun)
{
    /// <summary>Backups deleted on the primary target.</summary>
    [JsonIgnore]
    public int Deleted => Sources.Sum(s => s.Decisions.Count(d => !d.Keep));

    public long? BytesFreed => Prune?.BytesFreed;

    /// <summary>Every target expire ran on, the primary first; only when there are several.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(2)]
    public IReadOnlyList<ExpireTargetReport>? Targets { get; init; }

    /// <summary>Every target, also when there is only the primary.</summary>
    [JsonIgnore]
    public IReadOnlyList<ExpireTargetReport> AllTargets { get; init; } = [];

    /// <summary>The targets that failed; expire went on with the others.</summary>
    [JsonIgnore]
    public IEnumerable<ExpireTargetReport> Failures => AllTargets.Where(t => t.Failure is not null);
}

/// <summary>
/// `lifeboat expire`: on every target (the primary, then each secondary), applies that target's retention policy
/// (Targets:NAME:Retention, else each source's own), explains every decision, deletes the expired backups and the WAL that
/// no retained backup and no part of a PITR window needs, then prunes. Each target is pruned against its own manifests and
/// its own index (repository format, section 20), so a secondary may keep backups the primary expired long ago. A target
/// that fails is reported; the others still expire. Deleting a backup never breaks another.
/// </summary>
public sealed class ExpireBackups : IUseCase<ExpireBackupsRequest, ExpireReport>, IAdmitsJobs<ExpireBackupsRequest>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly CatalogCache _cache;
    private readonly IApprovalGate _gate;
    private readonly TimeProvider _time;
    private readonly CallContext _call;
    private readonly MaintenanceGate _maintenance;
    private readonly OperationLocks _locks;

    private readonly Events _events;
    private readonly CatalogAccess _catalog;

    public ExpireBackups(Workspace workspace, RepositoryOpener opener, Runs runs, CatalogCache cache, IApprovalGate gate, TimeProvider time, CallContext call, MaintenanceGate maintenance, OperationLocks locks, Events events, CatalogAccess catalog)
    {
        _events = events;
        _catalog = catalog;
        _maintenance = maintenance;
        _locks = locks;
        _workspace = workspace;
        _opener = opener;
        _runs = runs;
        _cache = cache;
        _gate = gate;
        _time = time;
        _call = call;
    }

    /// <summary>Refuses at once an expire (not a dry run) of a source in maintenance or busy, or of every source in global maintenance.</summary>
    public async Task AdmitAsync(ExpireBackupsRequest request, CancellationToken cancellationToken)
    {
        if (request.DryRun)
        {
            return;
        }

        if (request.Source is { } name && _workspace.Options.Sources.ContainsKey(name))
        {
            _locks.EnsureFree(name);
        }

        await _maintenance.EnsureOpenAsync(request.Source, request.Source is null ? "expire" : $"expire of '{request.Source}'", cancellationToken);
    }

    /// <remarks>
    /// Not a dry run: refused while its source (or, for every source, the workspace) is in maintenance, and under the
    /// source's operation lock; an expire of every source leaves out the sources in maintenance.
    /// </remarks>
    public async Task<ExpireReport> ExecuteAsync(ExpireBackupsRequest request, CancellationToken cancellationToken)
    {
        var sources = request.Source is null
            ? _workspace.Options.Sources.OrderBy(s => s.Key, StringComparer.Ordinal).ToList()
            : [KeyValuePair.Create(request.Source, _workspace.GetSource(request.Source))];
        IDisposable? held = null;
        if (!request.DryRun)
        {
            await _maintenance.EnsureOpenAsync(request.Source, request.Source is null ? "expire" : $"expire of '{request.Source}'", cancellationToken);
            if (request.Source is { } name)
            {
                held = _locks.Hold(name, "expire");
            }
            else if (!_call.IgnoreMaintenance)
            {
                var paused = (await _maintenance.ActiveAsync(cancellationToken)).Select(w => w.Source).ToHashSet(StringComparer.Ordinal);
                sources = sources.Where(s => !paused.Contains(s.Key)).ToList();
            }
        }

        using var release = held;
        var targets = request.Target is null ? _workspace.All() : [_workspace.Target(request.Target)];
        var reports = new List<ExpireTargetReport>();
        foreach (var target in targets)
        {
            if (targets.Count > 1)
            {
                Report($"target {target.Name}");
            }

            try
            {
                reports.Add(await RunOnTargetAsync(target, request.Source, sources, request.DryRun, cancellationToken));
            }
            catch (LifeboatException ex) when (targets.Count > 1)
            {
                reports.Add(new ExpireTargetReport(target.Name, [], null) { Failure = ex });
            }
        }

        var first = reports[0];
        return new ExpireReport(first.Sources, first.Prune, request.DryRun) { Targets = reports.Count > 1 ? reports : null, AllTargets = reports };
    }

    private void Report(string detail) => _call.Report(new ProgressUpdate("expire", detail));

    private async Task<ExpireTargetReport> RunOnTargetAsync(ConfiguredTarget target, string? sourceName, List<KeyValuePair<string, SourceOptions>> sources, bool dryRun, CancellationToken cancellationToken)
    {
        if (dryRun)
        {
            return await ExpireOnAsync(target, sources, dryRun, cancellationToken);
        }

        var report = await _runs.RecordAsync(
            new RunInfo(RunOperations.Expire, Catalog.JobKinds.Expire, sourceName, target.IsPrimary ? null : target.Name),
            () => ExpireOnAsync(target, sources, dryRun, cancellationToken),
            r => new RunFigures(0, -(r.Prune?.BytesFreed ?? 0), null, $"{{\"deleted\":{r.Deleted}}}"),
            cancellationToken);
        var removed = report.Sources.SelectMany(s => s.Decisions).Where(d => !d.Keep).Select(d => d.Id).ToList();
        if (removed.Count > 0)
        {
            await _events.PublishAsync(new ExpireRemoved(sourceName, target.Name, removed, report.Prune?.BytesFreed), CancellationToken.None);
        }

        return report;
    }

    private async Task<ExpireTargetReport> ExpireOnAsync(ConfiguredTarget target, List<KeyValuePair<string, SourceOptions>> sources, bool dryRun, CancellationToken cancellationToken)
    {
        await using var repository = target.IsPrimary
            ? await _opener.OpenAsync(cancellationToken)
            : await OpenSecondaryAsync(target, cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: !dryRun, dryRun ? "expire --dry-run" : "expire", cancellationToken);
        Report("reading manifests");
        var (manifests, damaged) = await repository.LoadAllManifestsAsync(cancellationToken);
        var pinned = await repository.PinnedAsync(cancellationToken);
        var now = _time.GetUtcNow();
        var plans = new List<ExpireSourcePlan>();
        foreach (var (name, source) in sources)
        {
            var policy = target.PolicyFor(source);
            var own = manifests.Where(m => m.Source == name).ToList();
            var candidates = own.Select(m => new RetentionCandidate(m.Id, m.Started, pinned.Contains(m.Id), ClusterBackupInfo.FromDetails(m.Details)?.StopTime)).ToList();
            var decisions = RetentionPlanner.Plan(candidates, policy, now);
            WalPlan? wal = null;
            if (source is ClusterSourceOptions cluster && !policy.KeepsEverything)
            {
                wal = await PlanWalAsync(repository, name, cluster, own, decisions, policy, cancellationToken);
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

        var expiring = plans.SelectMany(p => p.Decisions.Where(d => !d.Keep).Select(d => d.Id)).ToList();
        if (expiring.Count > 0)
        {
            await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.Expire, plans.Count == 1 ? plans[0].Source : null, $"expire {expiring.Count} backup(s) on target {target.Name} under the retention policy", new Dictionary<string, string?> { ["target"] = target.Name, ["backup"] = string.Join(",", expiring) }), cancellationToken);
        }

        if (target.IsPrimary && await CatalogConsistency.CompareAsync(_catalog, repository, cancellationToken) is { CatalogOnly.Count: > 0 } consistency)
        {
            // Expire prunes: it would delete the data of backups the catalog lists and someone removed from the repository.
            throw consistency.RefusePrune();
        }

        if (target.IsPrimary && expiring.Count > 0)
        {
            // The catalog caches the primary's backups (a secondary's are its own business). Out of the catalog before
            // out of the repository, as forget does: a catalog entry without a manifest is damage, never a crashed expire.
            await _cache.RemoveAsync(expiring, cancellationToken);
        }

        foreach (var plan in plans)
        {
            foreach (var decision in plan.Decisions.Where(d => !d.Keep))
            {
                Report($"deleting backup {decision.Id}");
                await repository.DeleteManifestAsync(decision.Id, cancellationToken);
            }

            foreach (var name in plan.Wal?.DeletedObjects ?? [])
            {
                await repository.Target.DeleteAsync(name, cancellationToken);
            }
        }

        var brokenStacks = await StackRecords.ForgetBrokenAsync(repository, plans.SelectMany(p => p.Decisions.Where(d => !d.Keep).Select(d => d.Id)).ToHashSet(StringComparer.Ordinal), cancellationToken);
        foreach (var stack in brokenStacks)
        {
            Report($"forgetting stack backup {stack} (a member expired)");
        }

        Report("pruning");
        var prune = await new Pruner(repository).PruneAsync(new PruneOptions(), new Progress<string>(Report), cancellationToken);
        return new ExpireTargetReport(target.Name, plans, prune);
    }

    /// <summary>A secondary is opened on its own (its config and key slots): expire works there when the primary is gone.</summary>
    private async Task<Lifeboat.Repository.Repository> OpenSecondaryAsync(ConfiguredTarget target, CancellationToken cancellationToken)
    {
        FailFastTarget? gate = null;
        var repository = await _opener.OpenAsync(_opener.OpenTarget(target.Url, null, t => gate = new FailFastTarget(t)), cancellationToken);
        gate!.Enabled = false;
        return repository;
    }

    /// <summary>The WAL to delete: what <see cref="WalRetention"/> does not keep.</summary>
    private static async Task<WalPlan> PlanWalAsync(Lifeboat.Repository.Repository repository, string name, ClusterSourceOptions source, List<Manifest> manifests, IReadOnlyList<RetentionDecision> decisions, RetentionPolicy policy, CancellationToken cancellationToken)
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
                    if (wal.SummaryObject is { } summary)
                    {
                        deleted.Add(summary); // the segment's summary goes with it (counted with it)
                    }
                }
            }
        }

        return new WalPlan(keptCount, deleted.Count(d => !d.EndsWith(WalArchive.SummarySuffix, StringComparison.Ordinal)), deletedBytes, continuousFrom, deleted);
    }
}
