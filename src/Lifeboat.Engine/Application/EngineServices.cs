using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.Demo;
using Lifeboat.Engine.Notifications;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.Sources;
using Lifeboat.Engine.UseCases.Audit;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Drills;
using Lifeboat.Engine.UseCases.EventLog;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Jobs;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Repositories;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Retention;
using Lifeboat.Engine.UseCases.Runbooks;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Engine.UseCases.Sources;
using Lifeboat.Engine.UseCases.Stacks;
using Lifeboat.Engine.UseCases.Targets;
using Lifeboat.Engine.UseCases.Tokens;
using Lifeboat.Engine.UseCases.Wal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Lifeboat.Engine.Application;

/// <summary>
/// The application layer in one list: the seams (event sink, approval gate), the per-call services and every use case.
/// Singletons are process-wide; everything else is scoped to one call (a command, a request, a scheduled job), whose
/// adapter sets <see cref="CallContext.Workspace"/> first.
/// </summary>
public static class EngineServices
{
    /// <summary>
    /// The application layer for a long-lived process (the server): as <see cref="AddLifeboatEngine"/>, with the
    /// catalog's SQLite connections pooled (a server opens the catalog for every request).
    /// </summary>
    public static IServiceCollection AddLifeboatServerEngine(this IServiceCollection services)
    {
        CatalogAccess.PoolConnections();
        return services.AddLifeboatEngine();
    }

    public static IServiceCollection AddLifeboatEngine(this IServiceCollection services)
    {
        // Process-wide, replaceable by the host (tests, the server).
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new TargetSettings());
        services.TryAddSingleton<UseCases.Health.StatusCache>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IEventSink, UseCases.Health.StatusCache>(sp => sp.GetRequiredService<UseCases.Health.StatusCache>()));
        services.TryAddSingleton<EventBus>();
        services.AddLogging();

        // One call.
        services.AddScoped<CallContext>();
        services.AddScoped(sp => sp.GetRequiredService<CallContext>().Workspace);
        services.AddScoped<RepositoryOpener>();
        services.AddScoped<CatalogAccess>();
        services.AddScoped<CatalogCache>();
        services.AddScoped<Events>();
        services.AddScoped<Runs>();
        services.AddScoped<AuditTrail>();
        services.AddScoped<UseCases.Approvals.ApprovalRules>();
        services.AddScoped<UseCases.Approvals.ConfiguredApprovalPolicies>();
        services.TryAddScoped<IApprovalGate, UseCases.Approvals.PolicyApprovalGate>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IEventSink, EventLogSink>());
        services.AddScoped<Replicator>();
        services.AddScoped<TreeRestores>();
        services.AddScoped<SourceConfiguration>();
        services.AddScoped<MaintenanceGate>();
        services.AddScoped<TenantGate>();
        services.AddScoped<TenantQuotas>();
        services.AddScoped<OperationLocks>();

        // The kinds of sources.
        services.AddScoped<SourceHandlers>();
        services.AddScoped<ISourceHandler, FilesHandler>();
        services.AddScoped<ISourceHandler, ClusterHandler>();
        services.AddScoped<ISourceHandler, DatabaseHandler>();
        services.AddScoped<ISourceHandler, ConfigHandler>();

        // Use cases, by area.
        services.AddScoped<InitRepository>().AddScoped<ListKeys>().AddScoped<AddKey>().AddScoped<RemoveKey>().AddScoped<UnlockRepository>().AddScoped<RebuildIndex>();
        services.AddScoped<AddFilesSource>().AddScoped<AddClusterSource>().AddScoped<AddDatabaseSource>().AddScoped<AddConfigSource>().AddScoped<ListSources>().AddScoped<RemoveSource>();
        services.AddScoped<AddStack>().AddScoped<ListStacks>().AddScoped<RemoveStack>().AddScoped<BackupStack>().AddScoped<RestoreStack>();
        services.AddScoped<BackupSource>().AddScoped<ListBackups>().AddScoped<ShowBackup>().AddScoped<ForgetBackups>().AddScoped<PinBackup>();
        services.AddScoped<DownloadBackup>().AddScoped<UploadBackup>();
        services.AddScoped<RestoreSource>();
        services.AddScoped<VerifyRepository>().AddScoped<PruneRepository>().AddScoped<ExpireBackups>().AddScoped<RebuildCatalog>();
        services.AddScoped<AddTarget>().AddScoped<ListTargets>().AddScoped<RemoveTarget>().AddScoped<VerifyTarget>().AddScoped<Replicate>();
        services.AddScoped<ListSchedules>().AddScoped<RunSchedule>().AddScoped<ExportSchedules>();
        services.AddScoped<GetStatus>().AddScoped<RunChecks>().AddScoped<GetMetrics>().AddScoped<EvaluateHealth>();
        services.AddScoped<ListRuns>().AddScoped<ListCatalogBackups>().AddScoped<CheckReadiness>();
        services.AddScoped<GetRunbook>();
        services.AddScoped<SetupArchiving>().AddScoped<ProbeArchiving>().AddScoped<PushWal>().AddScoped<FetchWal>().AddScoped<PrefetchWal>();
        services.AddScoped<RunDrill>();
        services.AddScoped<UseCases.Tenants.TenantAdmin>();
        services.AddScoped<CreateToken>().AddScoped<ListTokens>().AddScoped<RevokeToken>().AddScoped<AuthenticateToken>();
        services.AddScoped<ListAudit>();
        services.AddScoped<UseCases.Approvals.ListApprovalPolicies>().AddScoped<UseCases.Approvals.SetApprovalPolicy>().AddScoped<UseCases.Approvals.RemoveApprovalPolicy>();
        services.AddScoped<UseCases.Approvals.ListApprovals>().AddScoped<UseCases.Approvals.ShowApproval>().AddScoped<UseCases.Approvals.DecideApproval>().AddScoped<UseCases.Approvals.AwaitApproval>().AddScoped<UseCases.Approvals.BreakGlassApproval>();
        services.AddScoped<ListEvents>().AddScoped<WatchEvents>().AddScoped<ExpireEvents>().AddScoped<GenerateEvents>();
        services.AddScoped<WebhookStore>().AddScoped<AddWebhook>().AddScoped<ListWebhooks>().AddScoped<ShowWebhook>().AddScoped<UpdateWebhook>().AddScoped<RemoveWebhook>();
        services.AddScoped<ListNotifications>().AddScoped<TestNotification>();
        services.AddScoped<RotateWebhookSecret>().AddScoped<TestWebhook>().AddScoped<ReplayWebhook>().AddScoped<ListDeliveries>().AddScoped<ShowDelivery>().AddScoped<Redeliver>();

        // Delivery of the event log (the server's DeliveryWorker runs passes of it).
        services.AddScoped<Deliveries>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDeliveryChannel, WebhookChannel>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDeliveryChannel, EmailChannel>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDeliveryChannel, ChatChannel>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDeliveryRouter, WebhookRouter>());
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IDeliveryRouter, NotificationRouter>());
        services.AddScoped<ListJobs>().AddScoped<GetJob>().AddScoped<CancelJob>();
        services.AddScoped<EnterMaintenance>().AddScoped<LeaveMaintenance>().AddScoped<GetMaintenance>();
        services.AddScoped<ScheduleConfiguration>().AddScoped<AddSchedule>().AddScoped<UpdateSchedule>().AddScoped<RemoveSchedule>().AddScoped<ShowSchedule>();
        services.AddScoped<ListRetention>().AddScoped<SetRetention>();
        services.AddScoped<GetObjectives>().AddScoped<ListDrills>().AddScoped<ShowDrill>();
        services.AddSingleton<ClusterDemo>().AddSingleton<FilesDemo>();

        // The job queue (idle until the server starts it).
        services.AddLifeboatJobs();
        return services;
    }
}
