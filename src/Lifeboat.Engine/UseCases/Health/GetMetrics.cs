using Lifeboat.Catalog;
using Lifeboat.Engine.Application;

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
    private readonly GetStatus _status;
    private readonly GetObjectives _objectives;
    private readonly CatalogAccess _catalog;
    private readonly MaintenanceGate _maintenance;
    private readonly Workspace _workspace;

    public GetMetrics(GetStatus status, GetObjectives objectives, CatalogAccess catalog, MaintenanceGate maintenance, Workspace workspace)
    {
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
        };
    }
}

/// <summary>The overall state alone (the liveness endpoint).</summary>
public sealed record HealthStateView(HealthState State);
