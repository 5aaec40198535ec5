using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.Notifications;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Server.Apis;
using Lifeboat.Server.Dashboard;
using Lifeboat.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Lifeboat.Server;

/// <summary>
/// `lifeboat serve`: the REST API (docs/api.md) and the web dashboard (docs/dashboard.md) over the application layer's use cases, the scheduler, and metrics.
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
        builder.WebHost.UseLifeboatHttps(server, settings.ConfigPath);
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(new RedactingLoggerProvider(logs));
        }

        var services = builder.Services;
        services.AddSingleton(time);
        services.AddLifeboatServerEngine();
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, LifeboatJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, ServerJson.Default);
        });
        // The trace id of a problem is the call's correlation id (the defaults would put ASP.NET Core's own there).
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["traceId"] = CallScope.CorrelationId(c.HttpContext));
        services.AddExceptionHandler<Problems.Handler>();
        // The API authenticates by bearer token only; the dashboard's pages by its session cookie (Dashboard/).
        services.AddAuthentication(DashboardAuthentication.SelectorName)
            .AddPolicyScheme(DashboardAuthentication.SelectorName, null, o => o.ForwardDefaultSelector = DashboardAuthentication.SelectScheme)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthentication>(TokenAuthentication.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, DashboardAuthentication>(DashboardAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder().AddPermissionPolicies().AddDashboardPolicies();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "lifeboat-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = "csrf";
        });
        services.AddSingleton<JwtValidator>();
        services.AddLifeboatOpenApi();
        services.AddLifeboatRateLimits(server);
        services.AddSingleton<LifeboatMetrics>();
        services.AddSingleton(_ => new ApiCallCounter(workspace, time));
        services.AddHostedService(sp => sp.GetRequiredService<ApiCallCounter>());
        services.AddHostedService(sp => new JobQueueService(sp.GetRequiredService<JobQueue>(), workspace));
        services.AddSingleton(sp => new DeliveryWorker(workspace, sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<EventBus>(), time, sp.GetRequiredService<ILogger<DeliveryWorker>>()));
        services.AddHostedService<DeliveryService>();
        services.AddSingleton(sp => new HealthMonitor(workspace, sp.GetRequiredService<IServiceScopeFactory>(), time, sp.GetRequiredService<ILogger<HealthMonitor>>()));
        services.AddHostedService<HealthService>();
        if (scheduler)
        {
            services.AddSingleton(sp => new Scheduler(workspace, sp.GetRequiredService<IServiceScopeFactory>(), time, sp.GetRequiredService<ILogger<Scheduler>>()));
            services.AddHostedService<SchedulerService>();
            services.AddHostedService(sp => new TenantSchedulers(workspace, sp.GetRequiredService<IServiceScopeFactory>(), time, sp.GetRequiredService<ILoggerFactory>()));
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(app.Services.GetRequiredService<LifeboatMetrics>().Factory));
        app.UseCallWorkspace(workspace);
        app.UseAuthentication();
        app.UseCallTenant();
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
        api.MapApprovalsApi();
        api.MapSchedulesApi();
        api.MapRetentionApi();
        api.MapObjectivesApi();
        api.MapRunbookApi();
        api.MapEventsApi();
        api.MapWebhooksApi();
        api.MapNotificationsApi();
        api.MapTenantsApi();
        app.MapMetricsApi();
        app.MapDashboard();
        return app;
    }

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

    /// <summary>Delivers the event log's events (webhooks, e-mail, chat) and applies its retention while the server runs.</summary>
    private sealed class DeliveryService(DeliveryWorker worker) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(stoppingToken);
    }

    private sealed class HealthService(HealthMonitor monitor) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => monitor.RunAsync(stoppingToken);
    }

    private sealed class SchedulerService(Scheduler scheduler) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => scheduler.RunAsync(stoppingToken);
    }
}
