using System.Text.Json;
using System.Text.Json.Serialization;
using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.UseCases.Audit;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Drills;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Repositories;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Runbooks;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Engine.UseCases.Sources;
using Lifeboat.Engine.UseCases.Stacks;
using Lifeboat.Engine.UseCases.Targets;
using Lifeboat.Engine.UseCases.Tokens;
using Lifeboat.Engine.UseCases.Wal;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.Application;

/// <summary>
/// The one serialiser context for what the application layer returns: every use case's result is listed here, and is
/// exactly what <c>--json</c> prints and what the API answers. Web defaults (camelCase names, enums as their
/// <c>JsonStringEnumMemberName</c>), nulls left out, indented for people reading a terminal.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true)]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(DrillRunMetadata))]
[JsonSerializable(typeof(AddSourceResult))]
[JsonSerializable(typeof(AddKeyResult))]
[JsonSerializable(typeof(AddStackResult))]
[JsonSerializable(typeof(AddTargetResult))]
[JsonSerializable(typeof(BackupSourceResult))]
[JsonSerializable(typeof(BackupStackResult))]
[JsonSerializable(typeof(ExpireReport))]
[JsonSerializable(typeof(ExportSchedulesResult))]
[JsonSerializable(typeof(WalFetchResult))]
[JsonSerializable(typeof(ForgetBackupsResult))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(Runbook))]
[JsonSerializable(typeof(InitRepositoryResult))]
[JsonSerializable(typeof(ListBackupsResult))]
[JsonSerializable(typeof(ListKeysResult))]
[JsonSerializable(typeof(ListSchedulesResult))]
[JsonSerializable(typeof(ListSourcesResult))]
[JsonSerializable(typeof(ListStacksResult))]
[JsonSerializable(typeof(ListTargetsResult))]
[JsonSerializable(typeof(PinBackupResult))]
[JsonSerializable(typeof(PruneReport))]
[JsonSerializable(typeof(WalPushReport))]
[JsonSerializable(typeof(RebuildCatalogResult))]
[JsonSerializable(typeof(RebuildIndexReport))]
[JsonSerializable(typeof(RemoveKeyResult))]
[JsonSerializable(typeof(RemoveSourceResult))]
[JsonSerializable(typeof(RemoveStackResult))]
[JsonSerializable(typeof(RemoveTargetResult))]
[JsonSerializable(typeof(ReplicateReport))]
[JsonSerializable(typeof(RestoreSourceResult))]
[JsonSerializable(typeof(RestoreStackResult))]
[JsonSerializable(typeof(RunChecksResult))]
[JsonSerializable(typeof(DrillDocument))]
[JsonSerializable(typeof(JobResult))]
[JsonSerializable(typeof(ArchivingPlan))]
[JsonSerializable(typeof(ArchivingProbeResult))]
[JsonSerializable(typeof(ShowBackupResult))]
[JsonSerializable(typeof(UnlockRepositoryResult))]
[JsonSerializable(typeof(VerifyRepositoryResult))]
[JsonSerializable(typeof(VerifyTargetResult))]
[JsonSerializable(typeof(LifeboatEvent))]
[JsonSerializable(typeof(EventData))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.EventView))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.UseCases.EventLog.EventView>))]
[JsonSerializable(typeof(IReadOnlyList<Lifeboat.Engine.Notifications.WebhookSecret>))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.AddWebhookRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.UpdateWebhookRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.RotateWebhookSecretRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.ReplayWebhookRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.WebhookView))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.UseCases.EventLog.WebhookView>))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.CreatedWebhook))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.RotatedWebhookSecret))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.RemovedWebhook))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.ReplayResult))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.DeliveryView))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.UseCases.EventLog.DeliveryView>))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.GenerateEventsResult))]
[JsonSerializable(typeof(Lifeboat.Engine.Notifications.NotificationDetail))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.EventLog.NotificationsView))]
[JsonSerializable(typeof(ErrorDocument))]
[JsonSerializable(typeof(Page<CatalogBackupView>))]
[JsonSerializable(typeof(Page<RunView>))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.Sources.SourceSummary>))]
[JsonSerializable(typeof(Page<StackSummary>))]
[JsonSerializable(typeof(Page<TargetSummary>))]
[JsonSerializable(typeof(Page<ScheduleView>))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(AddFilesSourceRequest))]
[JsonSerializable(typeof(AddConfigSourceRequest))]
[JsonSerializable(typeof(AddClusterSourceRequest))]
[JsonSerializable(typeof(AddDatabaseSourceRequest))]
[JsonSerializable(typeof(AddStackRequest))]
[JsonSerializable(typeof(AddTargetRequest))]
[JsonSerializable(typeof(BackupSourceRequest))]
[JsonSerializable(typeof(RestoreSourceRequest))]
[JsonSerializable(typeof(RunDrillRequest))]
[JsonSerializable(typeof(VerifyRepositoryRequest))]
[JsonSerializable(typeof(ExpireBackupsRequest))]
[JsonSerializable(typeof(ReplicateRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tokens.CreateTokenRequest))]
[JsonSerializable(typeof(IReadOnlyList<ScheduleView>))]
[JsonSerializable(typeof(HealthStateView))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string?>))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenView))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.AddTenantRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.AddedTenant))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.TenantView))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.TenantList))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.TenantUsage))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Tenants.SetTenantQuotasRequest))]
[JsonSerializable(typeof(ListTokensResult))]
[JsonSerializable(typeof(TokenIdentity))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Approvals.ApprovalView))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Approvals.ApprovalList))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Approvals.ApprovalPolicyList))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Approvals.SetApprovalPolicyRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Approvals.DecideApprovalRequest))]
[JsonSerializable(typeof(ListAuditResult))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobPage))]
[JsonSerializable(typeof(JobCancellation))]
[JsonSerializable(typeof(Actor))]
[JsonSerializable(typeof(ErrorView))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(MaintenanceWindow))]
[JsonSerializable(typeof(MaintenanceList))]
[JsonSerializable(typeof(LeaveMaintenanceResult))]
[JsonSerializable(typeof(EnterMaintenanceRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Schedules.AddScheduleRequest))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Schedules.ScheduleSettings))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Schedules.SaveScheduleResult))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Schedules.RemoveScheduleResult))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Schedules.ScheduleDetail))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Retention.RetentionSettings))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.UseCases.Retention.SourceRetention>))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Retention.SetRetentionResult))]
[JsonSerializable(typeof(Lifeboat.Engine.UseCases.Health.ObjectivesReport))]
[JsonSerializable(typeof(Page<Lifeboat.Engine.UseCases.Drills.DrillView>))]
public sealed partial class LifeboatJson : JsonSerializerContext
{
    /// <summary>The same, on one line: for the catalog and log fields (enums are strings: UseStringEnumConverter is compiled into the metadata).</summary>
    public static LifeboatJson Compact { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    });
}
