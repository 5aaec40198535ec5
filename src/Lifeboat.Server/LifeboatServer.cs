using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Schedules;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server;

/// <summary>
/// `lifeboat serve`: runs the schedules and answers health, status, run-history and Prometheus metrics requests.
/// Read-only over HTTP; binds to loopback unless told otherwise. Every request is one call of the application layer:
/// a service scope whose workspace is opened for it; endpoints bind, call a use case and serialise its result.
/// </summary>
public static class LifeboatServer
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <param name="workspace">Opens the workspace a request or a scheduled job works on (once per call: configuration changes apply).</param>
    public static async Task RunAsync(Func<Workspace> workspace, TimeProvider time, string urls, ILoggerProvider? logs, Action<string>? started, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddSingleton(time);
        builder.Services.AddLifeboatEngine();
        builder.Services.AddSingleton(sp => new Scheduler(workspace, sp.GetRequiredService<IServiceScopeFactory>(), time, sp.GetRequiredService<ILogger<Scheduler>>()));
        builder.Services.AddHostedService<SchedulerService>();
        await using var app = builder.Build();
        MapApi(app, workspace);
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

    internal static void MapApi(WebApplication app, Func<Workspace> workspace)
    {
        // One call per request: its workspace, who asked, and errors as the application layer's error document.
        app.Use(async (http, next) =>
        {
            var call = http.RequestServices.GetRequiredService<CallContext>();
            call.Actor = new Actor("http", "anonymous", RemoteAddress: http.Connection.RemoteIpAddress?.ToString());
            try
            {
                call.Workspace = workspace();
                await next(http);
            }
            catch (LifeboatException ex) when (!http.Response.HasStarted)
            {
                var error = ErrorView.From(ex, FieldText.AsJsonField);
                await Results.Json(new ErrorDocument(error), LifeboatJson.Default.ErrorDocument, statusCode: StatusCode(ex.Code)).ExecuteAsync(http);
            }
        });

        app.MapGet("/healthz", async (GetStatus status, CancellationToken ct) =>
        {
            var report = await status.ExecuteAsync(new GetStatusRequest(), ct);
            return Results.Json(new HealthStateView(report.Overall), LifeboatJson.Default.HealthStateView, statusCode: report.Overall == HealthState.Critical ? 503 : 200);
        });
        app.MapGet("/api/status", async (string? source, GetStatus status, CancellationToken ct)
            => Results.Json(await status.ExecuteAsync(new GetStatusRequest(source), ct), LifeboatJson.Default.HealthReport));
        app.MapGet("/api/runs", async (string? source, string? kind, int? limit, ListRuns runs, CancellationToken ct)
            => Results.Json((await runs.ExecuteAsync(new ListRunsRequest(source, kind, Math.Clamp(limit ?? 50, 1, 1000)), ct)).Runs, LifeboatJson.Default.IReadOnlyListRunView));
        app.MapGet("/api/backups", async (string? source, ListCatalogBackups backups, CancellationToken ct)
            => Results.Json((await backups.ExecuteAsync(new ListCatalogBackupsRequest(source), ct)).Backups, LifeboatJson.Default.IReadOnlyListCatalogBackupView));
        app.MapGet("/api/schedules", async (ListSchedules schedules, CancellationToken ct)
            => Results.Json((await schedules.ExecuteAsync(new ListSchedulesRequest(), ct)).Schedules, LifeboatJson.Default.IReadOnlyListScheduleView));
        app.MapGet("/metrics", async (GetMetrics metrics, CancellationToken ct)
            => Results.Text(Prometheus(await metrics.ExecuteAsync(new GetMetricsRequest(), ct)), "text/plain; version=0.0.4"));
    }

    /// <summary>An error code as an HTTP status: bad input 400, missing 404, locked 409, refused 403, damage and failures 5xx.</summary>
    internal static int StatusCode(ErrorCode code) => code switch
    {
        ErrorCode.Usage or ErrorCode.InvalidInput => StatusCodes.Status400BadRequest,
        ErrorCode.NotFound => StatusCodes.Status404NotFound,
        ErrorCode.RepositoryLocked => StatusCodes.Status409Conflict,
        ErrorCode.Refused => StatusCodes.Status403Forbidden,
        ErrorCode.TargetFailed or ErrorCode.RepositoryUnavailable or ErrorCode.PostgresFailed => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>Prometheus text format: health per check, drills, last backup per source, runs by kind and status.</summary>
    internal static string Prometheus(MetricsSnapshot metrics)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# HELP lifeboat_health_state 0 healthy, 1 warning, 2 critical");
        sb.AppendLine("# TYPE lifeboat_health_state gauge");
        foreach (var c in metrics.Health.Checks)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_health_state{{source=\"{Escape(c.Source)}\",check=\"{Escape(c.Name)}\"}} {(int)c.State}");
        }

        sb.AppendLine("# HELP lifeboat_drill_rto_seconds The RTO measured by the latest drill of a source");
        sb.AppendLine("# TYPE lifeboat_drill_rto_seconds gauge");
        foreach (var d in metrics.Health.Drills.Where(d => d.LatestMeasured?.RtoMs is not null))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_drill_rto_seconds{{source=\"{Escape(d.Source)}\"}} {d.LatestMeasured!.RtoMs!.Value / 1000.0}");
        }

        sb.AppendLine("# HELP lifeboat_drill_proven_point_seconds Unix time of the last point a drill proved restorable");
        sb.AppendLine("# TYPE lifeboat_drill_proven_point_seconds gauge");
        foreach (var d in metrics.Health.Drills.Where(d => d.LastProven?.PointReached is not null))
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_drill_proven_point_seconds{{source=\"{Escape(d.Source)}\"}} {d.LastProven!.PointReached!.Value.ToUnixTimeSeconds()}");
        }

        sb.AppendLine("# HELP lifeboat_backup_last_finished_seconds Unix time of the newest backup of a source");
        sb.AppendLine("# TYPE lifeboat_backup_last_finished_seconds gauge");
        foreach (var b in metrics.LastBackups)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_backup_last_finished_seconds{{source=\"{Escape(b.Source)}\"}} {b.Finished.ToUnixTimeSeconds()}");
        }

        sb.AppendLine("# HELP lifeboat_runs Runs in the recent history by kind and status");
        sb.AppendLine("# TYPE lifeboat_runs gauge");
        foreach (var r in metrics.Runs)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_runs{{kind=\"{Escape(r.Kind)}\",status=\"{Escape(r.Status)}\"}} {r.Count}");
        }

        return sb.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private sealed class SchedulerService(Scheduler scheduler) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
    }
}
