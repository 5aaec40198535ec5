using Lifeboat.Engine.UseCases.Health;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Prometheus;

namespace Lifeboat.Server.Apis;

/// <summary>
/// <c>/metrics</c> in Prometheus's text format (prometheus-net): the figures of <see cref="GetMetrics"/>, set on gauges at
/// each scrape, and the HTTP request durations prometheus-net's middleware measures. Labels: <c>tenant</c> (the
/// workspace), <c>source</c>, <c>target</c>. Every series is rebuilt at each scrape (a removed source disappears).
/// </summary>
public static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", async (GetMetrics use, LifeboatMetrics metrics, HttpContext http, CancellationToken ct) =>
            {
                var snapshot = await use.ExecuteAsync(new GetMetricsRequest(), ct);
                http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.WriteAsync(snapshot, http.Response.Body, ct);
            })
            .WithName("Metrics").WithSummary("Prometheus text exposition format").WithTags("health").AllowAnonymous();
        return app;
    }
}

/// <summary>The server's Prometheus registry (one per server, so that several servers in one process do not share series).</summary>
public sealed class LifeboatMetrics
{
    private readonly SemaphoreSlim _scrape = new(1, 1);
    private readonly Gauge _health;
    private readonly Gauge _lastSuccess;
    private readonly Gauge _backupAge;
    private readonly Gauge _backupDuration;
    private readonly Gauge _backupBytesRead;
    private readonly Gauge _backupBytesStored;
    private readonly Gauge _walFailures;
    private readonly Gauge _rpo;
    private readonly Gauge _rpoObjective;
    private readonly Gauge _rpoViolated;
    private readonly Gauge _rto;
    private readonly Gauge _rtoObjective;
    private readonly Gauge _rtoViolated;
    private readonly Gauge _drillPassed;
    private readonly Gauge _drillProven;
    private readonly Gauge _jobs;
    private readonly Gauge _runs;
    private readonly Gauge _maintenance;
    private readonly Gauge _targetUp;
    private readonly Gauge _targetLatency;
    private readonly Gauge _targetBehind;
    private readonly Gauge _targetLag;
    private readonly Gauge _targetLastReplication;

    public LifeboatMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        Factory = Metrics.WithCustomRegistry(Registry);
        Gauge G(string name, string help, params string[] labels) => Factory.CreateGauge(name, help, new GaugeConfiguration { LabelNames = ["tenant", .. labels] });
        _health = G("lifeboat_health_state", "Health of a check: 0 healthy, 1 warning, 2 critical", "source", "check");
        _lastSuccess = G("lifeboat_backup_last_success_timestamp_seconds", "Unix time the newest backup of a source finished", "source");
        _backupAge = G("lifeboat_backup_age_seconds", "Age of the newest backup of a source", "source");
        _backupDuration = G("lifeboat_backup_last_duration_seconds", "Duration of the newest successful backup run of a source", "source");
        _backupBytesRead = G("lifeboat_backup_last_read_bytes", "Bytes the newest successful backup run of a source read", "source");
        _backupBytesStored = G("lifeboat_backup_last_stored_bytes", "Bytes the newest successful backup run of a source added to the repository", "source");
        _walFailures = G("lifeboat_wal_archive_failures", "Failed WAL pushes of a source to a target in the recent run history", "source", "target");
        _rpo = G("lifeboat_rpo_seconds", "Current RPO: age of the newest recoverable point of a source", "source");
        _rpoObjective = G("lifeboat_rpo_objective_seconds", "RPO objective of a source", "source");
        _rpoViolated = G("lifeboat_rpo_violated", "1 when the current RPO exceeds the objective", "source");
        _rto = G("lifeboat_drill_rto_seconds", "RTO measured by the latest drill of a source", "source");
        _rtoObjective = G("lifeboat_rto_objective_seconds", "RTO objective of a source", "source");
        _rtoViolated = G("lifeboat_rto_violated", "1 when the latest measured RTO exceeds the objective", "source");
        _drillPassed = G("lifeboat_drill_last_passed", "1 when the newest drill of a source passed, 0 when it failed", "source");
        _drillProven = G("lifeboat_drill_proven_point_timestamp_seconds", "Unix time of the last point a drill proved restorable", "source");
        _jobs = G("lifeboat_jobs", "Jobs of the server by state (the newest 1000)", "state");
        _runs = G("lifeboat_runs", "Runs in the recent history (the newest 1000) by kind and status", "kind", "status");
        _maintenance = G("lifeboat_maintenance", "1 while a source is in maintenance mode (an empty source: global maintenance)", "source");
        _targetUp = G("lifeboat_target_up", "1 when the target listed its backups within 5 s at this scrape, 0 when not", "target");
        _targetLatency = G("lifeboat_target_list_duration_seconds", "How long listing the target's backups took at this scrape", "target");
        _targetBehind = G("lifeboat_target_replication_behind_backups", "Backups of the primary newer than the newest one on this secondary", "target");
        _targetLag = G("lifeboat_target_replication_lag_seconds", "Age of the oldest primary backup newer than the secondary's newest (0: caught up)", "target");
        _targetLastReplication = G("lifeboat_target_last_replication_timestamp_seconds", "Unix time of the newest replication run to the target, by its status", "target", "status");
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    /// <summary>Sets every gauge from <paramref name="s"/> and writes the whole registry (HTTP durations included).</summary>
    public async Task WriteAsync(MetricsSnapshot s, Stream output, CancellationToken cancellationToken)
    {
        await _scrape.WaitAsync(cancellationToken);
        try
        {
            Set(s);
            await Registry.CollectAndExportAsTextAsync(output, cancellationToken);
        }
        finally
        {
            _scrape.Release();
        }
    }

    private void Set(MetricsSnapshot s)
    {
        foreach (var gauge in new[] { _health, _lastSuccess, _backupAge, _backupDuration, _backupBytesRead, _backupBytesStored, _walFailures, _rpo, _rpoObjective, _rpoViolated, _rto, _rtoObjective, _rtoViolated, _drillPassed, _drillProven, _jobs, _runs, _maintenance, _targetUp, _targetLatency, _targetBehind, _targetLag, _targetLastReplication })
        {
            foreach (var labels in gauge.GetAllLabelValues().ToList())
            {
                gauge.RemoveLabelled(labels);
            }
        }

        var t = s.Tenant;
        var now = s.Health.At;
        foreach (var c in s.Health.Checks)
        {
            _health.WithLabels(t, c.Source, c.Name).Set((int)c.State);
        }

        foreach (var b in s.LastBackups)
        {
            _lastSuccess.WithLabels(t, b.Source).Set(b.Finished.ToUnixTimeMilliseconds() / 1000.0);
            _backupAge.WithLabels(t, b.Source).Set(Math.Max(0, (now - b.Finished).TotalSeconds));
        }

        foreach (var r in s.LastBackupRuns)
        {
            _backupDuration.WithLabels(t, r.Source).Set(r.DurationSeconds);
            _backupBytesRead.WithLabels(t, r.Source).Set(r.BytesRead);
            _backupBytesStored.WithLabels(t, r.Source).Set(r.BytesStored);
        }

        foreach (var w in s.WalFailures)
        {
            _walFailures.WithLabels(t, w.Source, w.Target ?? "primary").Set(w.Count);
        }

        foreach (var o in s.Objectives?.Sources ?? [])
        {
            if (o.RpoSeconds is { } rpo)
            {
                _rpo.WithLabels(t, o.Source).Set(rpo);
            }

            if (o.RpoObjectiveSeconds is { } rpoObjective)
            {
                _rpoObjective.WithLabels(t, o.Source).Set(rpoObjective);
                _rpoViolated.WithLabels(t, o.Source).Set(o.RpoViolated ? 1 : 0);
            }

            if (o.RtoSeconds is { } rto)
            {
                _rto.WithLabels(t, o.Source).Set(rto);
                _rtoViolated.WithLabels(t, o.Source).Set(o.RtoViolated ? 1 : 0);
            }

            if (o.RtoObjectiveSeconds is { } rtoObjective)
            {
                _rtoObjective.WithLabels(t, o.Source).Set(rtoObjective);
            }
        }

        foreach (var d in s.Health.Drills)
        {
            if (d.Latest is { } latest)
            {
                _drillPassed.WithLabels(t, d.Source).Set(latest.Result == Lifeboat.Catalog.DrillResults.Passed ? 1 : 0);
            }

            if (d.LastProven?.PointReached is { } point)
            {
                _drillProven.WithLabels(t, d.Source).Set(point.ToUnixTimeMilliseconds() / 1000.0);
            }
        }

        foreach (var j in s.Jobs)
        {
            _jobs.WithLabels(t, j.State).Set(j.Count);
        }

        foreach (var r in s.Runs)
        {
            _runs.WithLabels(t, r.Kind, r.Status).Set(r.Count);
        }

        foreach (var m in s.Maintenance)
        {
            _maintenance.WithLabels(t, m.Source).Set(m.Active ? 1 : 0);
        }

        foreach (var target in s.Targets)
        {
            _targetUp.WithLabels(t, target.Target).Set(target.Up ? 1 : 0);
            _targetLatency.WithLabels(t, target.Target).Set(target.LatencySeconds);
            if (target.BehindBackups is { } behind)
            {
                _targetBehind.WithLabels(t, target.Target).Set(behind);
                _targetLag.WithLabels(t, target.Target).Set(target.LagSeconds ?? 0);
            }

            if (target.LastReplication is { } last)
            {
                _targetLastReplication.WithLabels(t, target.Target, target.LastReplicationStatus ?? "unknown").Set(last.ToUnixTimeMilliseconds() / 1000.0);
            }
        }
    }
}
