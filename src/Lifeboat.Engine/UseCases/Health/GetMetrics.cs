using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Health;

public sealed record GetMetricsRequest;

/// <summary>The newest backup of a source.</summary>
public sealed record SourceLastBackup(string Source, DateTimeOffset Finished);

/// <summary>How many runs of a kind ended so in the recent history.</summary>
public sealed record RunCount(string Kind, string Status, int Count);

/// <summary>Whether a source (<c>""</c>: the workspace as a whole, global maintenance) is in maintenance mode now.</summary>
public sealed record SourceMaintenance(string Source, bool Active);

/// <summary>The figures the metrics endpoint exposes: health per check, drills, last backups, recent runs, maintenance.</summary>
public sealed record MetricsSnapshot(HealthReport Health, IReadOnlyList<SourceLastBackup> LastBackups, IReadOnlyList<RunCount> Runs)
{
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
    private readonly CatalogAccess _catalog;
    private readonly MaintenanceGate _maintenance;
    private readonly Workspace _workspace;

    public GetMetrics(GetStatus status, CatalogAccess catalog, MaintenanceGate maintenance, Workspace workspace)
    {
        _maintenance = maintenance;
        _workspace = workspace;
        _status = status;
        _catalog = catalog;
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
        return new MetricsSnapshot(
            health,
            backups.GroupBy(b => b.Source).Select(g => new SourceLastBackup(g.Key, g.Max(b => b.Finished))).OrderBy(b => b.Source, StringComparer.Ordinal).ToList(),
            runs.GroupBy(r => (r.Kind, r.Status)).Select(g => new RunCount(g.Key.Kind, g.Key.Status, g.Count())).OrderBy(r => r.Kind, StringComparer.Ordinal).ThenBy(r => r.Status, StringComparer.Ordinal).ToList())
        {
            Maintenance = maintenance,
        };
    }
}

/// <summary>The overall state alone (the liveness endpoint).</summary>
public sealed record HealthStateView(HealthState State);
