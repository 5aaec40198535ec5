using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;
using Lifeboat.Targets;

namespace Lifeboat.Engine.UseCases.Health;

public sealed record GetMetricsRequest;

/// <summary>The newest backup of a source.</summary>
public sealed record SourceLastBackup(string Source, DateTimeOffset Finished);

/// <summary>How many runs of a kind ended so in the recent history.</summary>
public sealed record RunCount(string Kind, string Status, int Count);

/// <summary>Whether a source (<c>""</c>: the workspace as a whole, global maintenance) is in maintenance mode now.</summary>
public sealed record SourceMaintenance(string Source, bool Active);

/// <summary>A source's newest successful backup run (duration and bytes) and its failed WAL pushes, from the recent runs.</summary>
public sealed record BackupRunFigures(string Source, string Kind, DateTimeOffset Finished, double DurationSeconds, long BytesRead, long BytesStored);

/// <summary>Failed WAL pushes of a source to a target (null: the primary) in the recent runs.</summary>
public sealed record WalFailureCount(string Source, string? Target, int Count);

/// <summary>
/// A target as the last scrape found it: whether it answered a listing of its backups (within
/// <see cref="GetMetrics.ProbeTimeout"/>), how long that took, and for a secondary how far it is behind the primary:
/// the backups of the primary newer than the secondary's newest one, and the age of the oldest of them (0: caught up).
/// </summary>
public sealed record TargetFigures(string Target, bool Primary, bool Up, double LatencySeconds, int? BehindBackups, double? LagSeconds, DateTimeOffset? LastReplication, string? LastReplicationStatus);

/// <summary>Jobs of the workspace (tenant) in a state.</summary>
public sealed record JobStateCount(string State, int Count);

/// <summary>The figures the metrics endpoint exposes: health per check, drills, last backups, recent runs, maintenance.</summary>
public sealed record MetricsSnapshot(HealthReport Health, IReadOnlyList<SourceLastBackup> LastBackups, IReadOnlyList<RunCount> Runs)
{
    /// <summary>The workspace the figures are of (the <c>tenant</c> label).</summary>
    public string Tenant { get; init; } = Workspace.DefaultName;

    public IReadOnlyList<BackupRunFigures> LastBackupRuns { get; init; } = [];

    public IReadOnlyList<WalFailureCount> WalFailures { get; init; } = [];

    public IReadOnlyList<JobStateCount> Jobs { get; init; } = [];

    public IReadOnlyList<TargetFigures> Targets { get; init; } = [];

    /// <summary>RPO and RTO, objective against measured (<see cref="GetObjectives"/>).</summary>
    public ObjectivesReport? Objectives { get; init; }

    /// <summary>The workspace (<c>""</c>) and every configured source, 1 when in maintenance (its own or the global one).</summary>
    public IReadOnlyList<SourceMaintenance> Maintenance { get; init; } = [];
}

/// <summary>
/// The monitoring figures in one read (the server renders them in Prometheus's text format): the health report, the
/// newest backup of each source and the last 1000 runs by kind and status.
/// </summary>
public sealed class GetMetrics : IUseCase<GetMetricsRequest, MetricsSnapshot>
{
    /// <summary>How long a target may take to list its backups before the scrape reports it down.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly GetStatus _status;
    private readonly RepositoryOpener _opener;
    private readonly TimeProvider _time;
    private readonly GetObjectives _objectives;
    private readonly CatalogAccess _catalog;
    private readonly MaintenanceGate _maintenance;
    private readonly Workspace _workspace;

    public GetMetrics(GetStatus status, GetObjectives objectives, CatalogAccess catalog, MaintenanceGate maintenance, Workspace workspace, RepositoryOpener opener, TimeProvider time)
    {
        _opener = opener;
        _time = time;
        _maintenance = maintenance;
        _status = status;
        _objectives = objectives;
        _catalog = catalog;
        _workspace = workspace;
    }

    public async Task<MetricsSnapshot> ExecuteAsync(GetMetricsRequest request, CancellationToken cancellationToken)
    {
        var health = await _status.ExecuteAsync(new GetStatusRequest(), cancellationToken);
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var backups = await catalog.BackupsAsync(null, cancellationToken);
        var runs = await catalog.RunsAsync(null, null, 1000, cancellationToken);
        var windows = await _maintenance.ActiveAsync(cancellationToken);
        var global = windows.Any(w => w.Source is null);
        var maintenance = new List<SourceMaintenance> { new("", global) };
        maintenance.AddRange(_workspace.Options.Sources.Keys.Order(StringComparer.Ordinal).Select(s => new SourceMaintenance(s, global || windows.Any(w => w.Source == s))));
        var backupKinds = new[] { JobKinds.Full, JobKinds.Incr, JobKinds.Backup, JobKinds.Logical, JobKinds.Files };
        var lastRuns = runs.Where(r => r.Source is not null && r.Status == RunStatus.Succeeded && r.Finished is not null && backupKinds.Contains(r.Kind))
            .GroupBy(r => r.Source!).Select(g => g.OrderByDescending(r => r.Finished).First())
            .Select(r => new BackupRunFigures(r.Source!, r.Kind, r.Finished!.Value, r.DurationMs!.Value / 1000.0, r.BytesRead, r.BytesStored))
            .OrderBy(r => r.Source, StringComparer.Ordinal).ToList();
        var walFailures = runs.Where(r => r.Kind == JobKinds.WalPush && r.Status == RunStatus.Failed && r.Source is not null)
            .GroupBy(r => (r.Source!, r.Target)).Select(g => new WalFailureCount(g.Key.Item1, g.Key.Target, g.Count()))
            .OrderBy(w => w.Source, StringComparer.Ordinal).ThenBy(w => w.Target, StringComparer.Ordinal).ToList();
        var jobs = (await catalog.JobsAsync(_workspace.Name, null, 1000, null, cancellationToken))
            .GroupBy(j => j.State).Select(g => new JobStateCount(g.Key, g.Count())).OrderBy(j => j.State, StringComparer.Ordinal).ToList();
        var objectives = await _objectives.ExecuteAsync(new GetObjectivesRequest(), cancellationToken);
        var targets = await TargetsAsync(backups, runs, cancellationToken);
        return new MetricsSnapshot(
            health,
            backups.GroupBy(b => b.Source).Select(g => new SourceLastBackup(g.Key, g.Max(b => b.Finished))).OrderBy(b => b.Source, StringComparer.Ordinal).ToList(),
            runs.GroupBy(r => (r.Kind, r.Status)).Select(g => new RunCount(g.Key.Kind, g.Key.Status, g.Count())).OrderBy(r => r.Kind, StringComparer.Ordinal).ThenBy(r => r.Status, StringComparer.Ordinal).ToList())
        {
            Maintenance = maintenance,
            Tenant = _workspace.Name,
            LastBackupRuns = lastRuns,
            WalFailures = walFailures,
            Jobs = jobs,
            Objectives = objectives,
            Targets = targets,
        };
    }

    /// <summary>Every target listed at once (one LIST of <c>backups/</c> each, one attempt, bounded by <see cref="ProbeTimeout"/>).</summary>
    private async Task<List<TargetFigures>> TargetsAsync(IReadOnlyList<BackupRecord> primaryBackups, IReadOnlyList<RunRecord> runs, CancellationToken cancellationToken)
    {
        var configured = _workspace.All().ToList();
        var listings = await Task.WhenAll(configured.Select(t => ListAsync(t.Url, cancellationToken)));
        var finished = primaryBackups.ToDictionary(b => b.Id, b => b.Finished, StringComparer.Ordinal);
        var primaryIds = listings.Zip(configured).FirstOrDefault(l => l.Second.IsPrimary).First.Ids;
        var now = _time.GetUtcNow();
        var result = new List<TargetFigures>();
        foreach (var (listing, target) in listings.Zip(configured))
        {
            int? behind = null;
            double? lag = null;
            if (!target.IsPrimary && listing.Ids is { } theirs && primaryIds is { } ours)
            {
                // Backup ids sort by time; a secondary's own retention may drop old ones, so only those newer than its newest count.
                var newestThere = theirs.Count == 0 ? null : theirs.Max(StringComparer.Ordinal);
                var missing = ours.Where(id => newestThere is null || string.CompareOrdinal(id, newestThere) > 0).ToList();
                behind = missing.Count;
                lag = missing.Count == 0 ? 0 : missing.Select(id => finished.TryGetValue(id, out var f) ? (now - f).TotalSeconds : 0).Max();
            }

            var last = runs.Where(r => r.Kind == JobKinds.Replicate && r.Target == target.Name).MaxBy(r => r.Started);
            result.Add(new TargetFigures(target.Name, target.IsPrimary, listing.Ids is not null, listing.Seconds, behind, lag, last?.Finished ?? last?.Started, last?.Status.ToLowerInvariant()));
        }

        return result;
    }

    private async Task<(List<string>? Ids, double Seconds)> ListAsync(string url, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            await using var target = _opener.OpenTarget(url, new RetryOptions { MaxAttempts = 1 }, null);
            var items = await target.ListAllAsync(Lifeboat.Repository.Format.ObjectNames.BackupsPrefix, timeout.Token);
            var ids = items.Select(i => i.Name[Lifeboat.Repository.Format.ObjectNames.BackupsPrefix.Length..]).Where(Lifeboat.Core.BackupId.IsValid).ToList();
            return (ids, _time.GetElapsedTime(started).TotalSeconds);
        }
        catch (Exception ex) when (ex is Lifeboat.Core.LifeboatException or TargetException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return (null, _time.GetElapsedTime(started).TotalSeconds);
        }
    }
}

/// <summary>The overall state alone (the liveness endpoint).</summary>
public sealed record HealthStateView(HealthState State);
