using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server;

/// <summary>
/// `lifeboat serve`: runs the schedules and answers health, status, run-history and Prometheus metrics requests.
/// Read-only over HTTP; binds to loopback unless told otherwise.
/// </summary>
public static class LifeboatServer
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    public static async Task RunAsync(EngineContext context, string urls, ILoggerProvider? logs, Action<string>? started, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddSingleton(context);
        builder.Services.AddHostedService(sp => new SchedulerService(context, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Lifeboat.Scheduler")));
        await using var app = builder.Build();
        MapApi(app, context);
        await app.StartAsync(cancellationToken);
        started?.Invoke(string.Join(", ", app.Urls));
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await app.StopAsync(CancellationToken.None);
    }

    internal static void MapApi(WebApplication app, EngineContext context)
    {
        app.MapGet("/healthz", async (CancellationToken ct) =>
        {
            var report = await HealthService.RunAsync(context, null, ct);
            return Json(new JsonObject { ["state"] = report.Overall.ToString().ToLowerInvariant() }, report.Overall == HealthState.Critical ? 503 : 200);
        });
        app.MapGet("/api/status", async (string? source, CancellationToken ct) =>
        {
            var report = await HealthService.RunAsync(context, source, ct);
            return Json(new JsonObject
            {
                ["state"] = report.Overall.ToString().ToLowerInvariant(),
                ["at"] = report.At,
                ["checks"] = new JsonArray(report.Checks.Select(c => (JsonNode)new JsonObject
                {
                    ["source"] = c.Source.Length == 0 ? null : c.Source,
                    ["check"] = c.Name,
                    ["state"] = c.State.ToString().ToLowerInvariant(),
                    ["detail"] = c.Detail,
                }).ToArray()),
                ["drills"] = new JsonArray(report.Drills.Select(d => (JsonNode)d.ToJson()).ToArray()),
            });
        });
        app.MapGet("/api/runs", async (string? source, string? kind, int? limit, CancellationToken ct) =>
        {
            var catalog = await context.OpenCatalogAsync(ct);
            var runs = await catalog.RunsAsync(source, kind, Math.Clamp(limit ?? 50, 1, 1000), ct);
            return Json(new JsonArray(runs.Select(r => (JsonNode)new JsonObject
            {
                ["id"] = r.Id,
                ["kind"] = r.Kind,
                ["source"] = r.Source,
                ["status"] = r.Status,
                ["started"] = r.Started,
                ["finished"] = r.Finished,
                ["durationMs"] = r.DurationMs,
                ["bytesRead"] = r.BytesRead,
                ["bytesStored"] = r.BytesStored,
                ["backupId"] = r.BackupId,
                ["error"] = r.Error,
            }).ToArray()));
        });
        app.MapGet("/api/backups", async (string? source, CancellationToken ct) =>
        {
            var catalog = await context.OpenCatalogAsync(ct);
            var backups = await catalog.BackupsAsync(source, ct);
            return Json(new JsonArray(backups.Select(b => (JsonNode)new JsonObject
            {
                ["id"] = b.Id,
                ["source"] = b.Source,
                ["kind"] = b.Kind,
                ["type"] = b.Type,
                ["started"] = b.Started,
                ["finished"] = b.Finished,
                ["bytes"] = b.Bytes,
                ["storedBytes"] = b.StoredBytes,
                ["stopLsn"] = b.StopLsn,
            }).ToArray()));
        });
        app.MapGet("/api/schedules", async (CancellationToken ct) =>
        {
            var catalog = await context.OpenCatalogAsync(ct);
            var states = await catalog.ScheduleStatesAsync(ct);
            var now = context.Time.GetUtcNow();
            return Json(new JsonArray(context.Options.Schedules.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s =>
            {
                var schedule = new Schedule(s.Key, s.Value);
                var state = states.GetValueOrDefault(s.Key);
                return (JsonNode)new JsonObject
                {
                    ["name"] = s.Key,
                    ["kind"] = schedule.Kind,
                    ["source"] = schedule.Source,
                    ["cron"] = s.Value.Cron,
                    ["next"] = state?.NextRun ?? schedule.Next(now),
                    ["lastRun"] = state?.LastRun,
                    ["lastStatus"] = state?.LastStatus,
                };
            }).ToArray()));
        });
        app.MapGet("/metrics", async (CancellationToken ct) => Results.Text(await MetricsAsync(context, ct), "text/plain; version=0.0.4"));
    }

    /// <summary>Prometheus text format: health per check, last backup per source, runs by kind and status.</summary>
    internal static async Task<string> MetricsAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder();
        var report = await HealthService.RunAsync(context, null, cancellationToken);
        sb.AppendLine("# HELP lifeboat_health_state 0 healthy, 1 warning, 2 critical");
        sb.AppendLine("# TYPE lifeboat_health_state gauge");
        foreach (var c in report.Checks)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_health_state{{source=\"{Escape(c.Source)}\",check=\"{Escape(c.Name)}\"}} {(int)c.State}");
        }

        sb.AppendLine("# HELP lifeboat_drill_rto_seconds The RTO measured by the latest drill of a source");
        sb.AppendLine("# TYPE lifeboat_drill_rto_seconds gauge");
        foreach (var d in report.Drills.Where(d => d.LatestMeasured?.RtoMs is not null))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_drill_rto_seconds{{source=\"{Escape(d.Source)}\"}} {d.LatestMeasured!.RtoMs!.Value / 1000.0}");
        }

        sb.AppendLine("# HELP lifeboat_drill_proven_point_seconds Unix time of the last point a drill proved restorable");
        sb.AppendLine("# TYPE lifeboat_drill_proven_point_seconds gauge");
        foreach (var d in report.Drills.Where(d => d.LastProven?.PointReached is not null))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_drill_proven_point_seconds{{source=\"{Escape(d.Source)}\"}} {d.LastProven!.PointReached!.Value.ToUnixTimeSeconds()}");
        }

        var catalog = await context.OpenCatalogAsync(cancellationToken);
        sb.AppendLine("# HELP lifeboat_backup_last_finished_seconds Unix time of the newest backup of a source");
        sb.AppendLine("# TYPE lifeboat_backup_last_finished_seconds gauge");
        foreach (var group in (await catalog.BackupsAsync(null, cancellationToken)).GroupBy(b => b.Source))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_backup_last_finished_seconds{{source=\"{Escape(group.Key)}\"}} {group.Max(b => b.Finished).ToUnixTimeSeconds()}");
        }

        sb.AppendLine("# HELP lifeboat_runs Runs in the recent history by kind and status");
        sb.AppendLine("# TYPE lifeboat_runs gauge");
        foreach (var group in (await catalog.RunsAsync(null, null, 1000, cancellationToken)).GroupBy(r => (r.Kind, r.Status)))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_runs{{kind=\"{Escape(group.Key.Kind)}\",status=\"{Escape(group.Key.Status)}\"}} {group.Count()}");
        }

        return sb.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static IResult Json(JsonNode node, int status = 200) => Results.Content(node.ToJsonString(), "application/json", Encoding.UTF8, status);

    private sealed class SchedulerService(EngineContext context, ILogger logger) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => new Scheduler(context, logger).RunAsync(stoppingToken);
    }
}
