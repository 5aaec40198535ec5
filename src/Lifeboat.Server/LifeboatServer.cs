using System.Globalization;
using System.Text;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Server.Apis;
using Lifeboat.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server;

/// <summary>
/// `lifeboat serve`: the REST API (docs/api.md) over the application layer's use cases, the scheduler, and metrics.
/// Binds to loopback unless told otherwise. Every request is one call of the application layer: a service scope whose
/// workspace is opened for it; endpoints (Apis/) bind, call a use case and serialise its result.
/// </summary>
public static class LifeboatServer
{
    public const string DefaultUrls = "http://127.0.0.1:8080";

    /// <param name="workspace">Opens the workspace a request or a scheduled job works on (once per call: configuration changes apply).</param>
    public static async Task RunAsync(Func<Workspace> workspace, TimeProvider time, string urls, ILoggerProvider? logs, Action<string>? started, CancellationToken cancellationToken)
    {
        await using var app = Build(workspace, time, urls, logs);
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

    /// <summary>The server, ready to start: the application layer, authentication, the API, OpenAPI, the scheduler.</summary>
    public static WebApplication Build(Func<Workspace> workspace, TimeProvider time, string urls, ILoggerProvider? logs, bool scheduler = true)
    {
        var settings = workspace();
        var server = settings.OptionsOrEmpty.Server;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.UseUrls(urls);
        builder.WebHost.UseLifeboatHttps(server, settings.Config.Path);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(new RedactingLoggerProvider(logs));
        }

        var services = builder.Services;
        services.AddSingleton(time);
        services.AddLifeboatEngine();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, LifeboatJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, ServerJson.Default);
        });
        // The trace id of a problem is the call's correlation id (the defaults would put ASP.NET Core's own there).
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["traceId"] = CallScope.CorrelationId(c.HttpContext));
        services.AddExceptionHandler<Problems.Handler>();
        services.AddAuthentication(TokenAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, TokenAuthentication>(TokenAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().AddPermissionPolicies();
        services.AddLifeboatOpenApi();
        services.AddLifeboatRateLimits(server);
        services.AddHostedService(sp => new JobQueueService(sp.GetRequiredService<JobQueue>(), workspace));
        if (scheduler)
        {
            services.AddSingleton(sp => new Scheduler(workspace, sp.GetRequiredService<IServiceScopeFactory>(), time, sp.GetRequiredService<ILogger<Scheduler>>()));
            services.AddHostedService<SchedulerService>();
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseCallWorkspace(workspace);
        app.UseAuthentication();
        app.UseCallActor();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapLifeboatOpenApi();
        var api = app.MapGroup("/api/v1");
        api.AddEndpointFilter<AuditFilter>();
        app.MapStatusApi(api);
        api.MapSourcesApi();
        api.MapBackupsApi();
        api.MapBackupTransferApi();
        api.MapJobsApi();
        api.MapTargetsApi();
        api.MapTokensApi();
        api.MapMaintenanceApi();
        app.MapGet("/metrics", async (GetMetrics metrics, CancellationToken ct) => TypedResults.Text(Prometheus(await metrics.ExecuteAsync(new GetMetricsRequest(), ct)), "text/plain; version=0.0.4"))
            .WithName("Metrics").WithSummary("Prometheus text exposition format").WithTags("health").AllowAnonymous();
        return app;
    }

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

        sb.AppendLine("# HELP lifeboat_maintenance 1 while a source is in maintenance mode (an empty source: global maintenance)");
        sb.AppendLine("# TYPE lifeboat_maintenance gauge");
        foreach (var m in metrics.Maintenance)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"lifeboat_maintenance{{source=\"{Escape(m.Source)}\"}} {(m.Active ? 1 : 0)}");
        }

        return sb.ToString();
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>Marks jobs an earlier process left queued or running as failed, then runs the queue until the server stops.</summary>
    private sealed class JobQueueService(JobQueue jobs, Func<Workspace> workspace) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await jobs.RecoverAsync(workspace(), cancellationToken);
            await jobs.StartAsync(cancellationToken);
        }

        public Task StopAsync(CancellationToken cancellationToken) => jobs.StopAsync(cancellationToken);
    }

    private sealed class SchedulerService(Scheduler scheduler) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
    }
}
