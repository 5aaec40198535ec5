using System.Text.Json.Serialization;
using Lifeboat.Catalog;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application;

public enum EventSeverity
{
    [JsonStringEnumMemberName("info")]
    Info,
    [JsonStringEnumMemberName("warning")]
    Warning,
    [JsonStringEnumMemberName("error")]
    Error,
    [JsonStringEnumMemberName("critical")]
    Critical,
}

/// <summary>
/// Something that happened: a run started or finished, a setting changed. The envelope every sink receives
/// (docs/events.md lists the types); <see cref="Data"/> is a typed record without secrets.
/// </summary>
public sealed record LifeboatEvent(string Id, string Type, DateTimeOffset Time, string Tenant, string? Source, EventSeverity Severity, string CorrelationId, EventData Data);

/// <summary>The typed payload of an event; its type name, severity and source follow from the data.</summary>
[JsonDerivedType(typeof(RunStarted))]
[JsonDerivedType(typeof(RunFinished))]
[JsonDerivedType(typeof(WalPushFailed))]
[JsonDerivedType(typeof(ConfigurationChanged))]
[JsonDerivedType(typeof(RepositoryChanged))]
[JsonDerivedType(typeof(TokenCreated))]
[JsonDerivedType(typeof(TokenRevoked))]
[JsonDerivedType(typeof(MaintenanceEntered))]
[JsonDerivedType(typeof(MaintenanceLeft))]
[JsonDerivedType(typeof(VerifyDamageFound))]
[JsonDerivedType(typeof(ExpireRemoved))]
[JsonDerivedType(typeof(HealthAlert))]
[JsonDerivedType(typeof(ApprovalChanged))]
[JsonDerivedType(typeof(TenantChanged))]
[JsonDerivedType(typeof(TenantQuotaCrossed))]
[JsonDerivedType(typeof(ScheduleSkipped))]
[JsonDerivedType(typeof(WebhookDisabled))]
[JsonDerivedType(typeof(TestEvent))]
public abstract record EventData
{
    [JsonIgnore]
    public abstract string Type { get; }

    [JsonIgnore]
    public virtual EventSeverity Severity => EventSeverity.Info;

    /// <summary>The source the event is about, or null.</summary>
    [JsonIgnore]
    public virtual string? About => null;
}

/// <summary>A run (a backup, a restore, a verify, …) started. <paramref name="Operation"/> names the event family.</summary>
public sealed record RunStarted(string RunId, string Operation, string Kind, string? Source, string? Target, DateTimeOffset Started) : EventData
{
    public override string Type => Operation + ".started";

    public override string? About => Source;
}

/// <summary>A run ended: succeeded, failed or cancelled, with what it read and stored.</summary>
public sealed record RunFinished(
    string RunId,
    string Operation,
    string Kind,
    string? Source,
    string? Target,
    string Status,
    DateTimeOffset Started,
    DateTimeOffset Finished,
    long BytesRead,
    long BytesStored,
    string? BackupId,
    string? Error,
    string? Metadata) : EventData
{
    public override string Type => Operation + "." + (Operation == RunOperations.Drill
        ? Status switch { Catalog.RunStatus.Succeeded => "passed", Catalog.RunStatus.Failed => "failed", _ => Status }
        : Status switch { Catalog.RunStatus.Succeeded => "completed", _ => Status });

    /// <summary>
    /// Failed: error. A committed backup with problems (paths it could not read, files that changed while they were
    /// read or vanished; <see cref="Metadata"/> lists them): warning, so that routing rules with the default minimum
    /// severity tell someone.
    /// </summary>
    public override EventSeverity Severity => Status switch
    {
        Catalog.RunStatus.Failed => EventSeverity.Error,
        Catalog.RunStatus.Succeeded when Operation == RunOperations.Backup && Metadata is not null => EventSeverity.Warning,
        _ => EventSeverity.Info,
    };

    public override string? About => Source;
}

/// <summary>
/// wal-push did not archive a file: in the primary target (<paramref name="Target"/> <c>primary</c>: PostgreSQL keeps the
/// file and retries; an error), or only in a secondary (caught up by the next replicate; a warning).
/// </summary>
public sealed record WalPushFailed(string Source, string File, string Target, string Error) : EventData
{
    public const string PrimaryTarget = "primary";

    public override string Type => "wal.archive_failed";

    public override EventSeverity Severity => Target == PrimaryTarget ? EventSeverity.Error : EventSeverity.Warning;

    public override string? About => Source;
}

/// <summary>verify found damaged or missing objects (the first 20 named) and the backups they affect.</summary>
public sealed record VerifyDamageFound(string Repository, int Damaged, IReadOnlyList<string> Objects, IReadOnlyList<string> AffectedBackups, bool ReadData) : EventData
{
    public override string Type => "verify.damage_found";

    public override EventSeverity Severity => EventSeverity.Critical;
}

/// <summary>expire deleted backups that the retention policy no longer keeps (on the primary, or on a secondary target).</summary>
public sealed record ExpireRemoved(string? Source, string Target, IReadOnlyList<string> Backups, long? BytesFreed) : EventData
{
    public override string Type => "expire.removed";

    public override string? About => Source;
}

/// <summary>
/// A health check of <c>status</c> changed, seen by the server's scheduled evaluation: violated (it left healthy, or
/// got worse) or resolved (healthy again). The type follows the check: <c>rpo.*</c>, <c>rto.*</c>,
/// <c>wal.archive_stalled</c>/<c>wal.archive_resumed</c>, <c>target.unreachable</c>/<c>target.recovered</c>,
/// <c>replication.lagging</c>/<c>replication.caught_up</c>, else <c>health.violated</c>/<c>health.resolved</c>.
/// </summary>
/// <param name="Source">The source checked; null for the repository's own checks and targets.</param>
/// <param name="State">warning or critical (violated), healthy (resolved).</param>
public sealed record HealthAlert(string? Source, string Check, string State, string? PreviousState, string Detail, bool Resolved) : EventData
{
    public override string Type => Check switch
    {
        "RPO" => Resolved ? "rpo.resolved" : "rpo.violated",
        "measured RTO" => Resolved ? "rto.resolved" : "rto.violated",
        "WAL archiving" => Resolved ? "wal.archive_resumed" : "wal.archive_stalled",
        _ when Check.StartsWith("target ", StringComparison.Ordinal) => Resolved ? "target.recovered" : "target.unreachable",
        _ when Check.StartsWith("replication ", StringComparison.Ordinal) => Resolved ? "replication.caught_up" : "replication.lagging",
        _ => Resolved ? "health.resolved" : "health.violated",
    };

    public override EventSeverity Severity => Resolved ? EventSeverity.Info : State == "critical" ? EventSeverity.Critical : EventSeverity.Warning;

    public override string? About => Source;
}

/// <summary>An approval request of a destructive operation changed: requested, granted, denied or expired (the approvals issue emits it).</summary>
/// <param name="Link">The request's dashboard page (Server:PublicUrl/approvals/ID), when the server's address is configured.</param>
public sealed record ApprovalChanged(string Id, string Change, string Operation, string? Target, string RequestedBy, string? By = null, string? Reason = null, string? Link = null) : EventData
{
    public override string Type => "approval." + Change;

    public override EventSeverity Severity => Change == "break_glass" ? EventSeverity.Critical : Change is "denied" or "expired" ? EventSeverity.Warning : EventSeverity.Info;
}

/// <summary>A tenant was suspended or resumed (the tenants issue emits it).</summary>
public sealed record TenantChanged(string Name, string Change, string By, string? Reason = null) : EventData
{
    public override string Type => "tenant." + Change;

    public override EventSeverity Severity => Change == "suspended" ? EventSeverity.Warning : EventSeverity.Info;
}

/// <summary>A tenant's use reached 80 % of a quota (<c>tenant.quota.warning</c>) or an operation was refused over it (<c>tenant.quota.exceeded</c>).</summary>
/// <param name="Quota">stored-bytes or sources.</param>
public sealed record TenantQuotaCrossed(string Name, string Quota, string Change, long Used, long Limit, string? Operation = null) : EventData
{
    public override string Type => "tenant.quota." + Change;

    public override EventSeverity Severity => Change == "exceeded" ? EventSeverity.Error : EventSeverity.Warning;
}

/// <summary>A due scheduled run was not run: its tenant is suspended or being removed (docs/tenants.md).</summary>
public sealed record ScheduleSkipped(string Schedule, string? Source, string Reason, DateTimeOffset Due) : EventData
{
    public override string Type => "schedule.skipped";

    public override EventSeverity Severity => EventSeverity.Warning;

    public override string? About => Source;
}

/// <summary>A webhook endpoint was disabled: it answered 410 Gone (its owner says it is gone for good).</summary>
public sealed record WebhookDisabled(string Id, string Url, string Reason) : EventData
{
    public override string Type => "webhook.disabled";

    public override EventSeverity Severity => EventSeverity.Warning;
}

/// <summary>A test event: sent by "send test" to one channel, or generated in bulk to exercise delivery (`events generate`).</summary>
public sealed record TestEvent(string Kind, string? Channel = null, long? Sequence = null, string? Batch = null) : EventData
{
    public override string Type => Kind switch { "generated" => "test.generated", "notify" => "notify.test", _ => "webhook.test" };
}

/// <summary>A change of the configuration: a source, stack or target added or removed.</summary>
/// <param name="What">source, stack or target.</param>
/// <param name="Change">added or removed.</param>
public sealed record ConfigurationChanged(string What, string Change, string Name, string? Kind = null, string? Detail = null) : EventData
{
    public override string Type => $"{What}.{Change}";

    public override EventSeverity Severity => Change == "removed" ? EventSeverity.Warning : EventSeverity.Info;

    public override string? About => What == "source" ? Name : null;
}

/// <summary>A change of the repository itself: created, a key slot added or removed, a backup pinned, locks removed.</summary>
public sealed record RepositoryChanged(string Change, string Repository, string? Subject = null, string? Detail = null) : EventData
{
    public override string Type => "repository." + Change;

    public override EventSeverity Severity => Change is "key_removed" or "unlocked" ? EventSeverity.Warning : EventSeverity.Info;
}

/// <summary>An API token was created (never its secret nor its hash).</summary>
public sealed record TokenCreated(string Id, string Name, string Role, string Tenant, DateTimeOffset? Expires) : EventData
{
    public override string Type => "token.created";
}

/// <summary>An API token was revoked: it no longer authenticates.</summary>
public sealed record TokenRevoked(string Id, string Name, string Tenant) : EventData
{
    public override string Type => "token.revoked";

    public override EventSeverity Severity => EventSeverity.Warning;
}

/// <summary>Maintenance mode started for a source (<paramref name="Source"/> null: every source): its jobs are skipped and writes to it refused until <paramref name="Ends"/> or until it is left.</summary>
public sealed record MaintenanceEntered(string? Source, string? Reason, DateTimeOffset Started, DateTimeOffset? Ends, string By) : EventData
{
    public override string Type => "maintenance.entered";

    public override EventSeverity Severity => EventSeverity.Warning;

    public override string? About => Source;
}

/// <summary>Someone ended the maintenance of a source (null: the global one). A window that ends by itself publishes nothing.</summary>
public sealed record MaintenanceLeft(string? Source, string By) : EventData
{
    public override string Type => "maintenance.left";

    public override string? About => Source;
}

/// <summary>The event families of runs (the first part of their event types).</summary>
public static class RunOperations
{
    public const string Backup = "backup";
    public const string StackBackup = "stack_backup";
    public const string Restore = "restore";
    public const string Verify = "verify";
    public const string Prune = "prune";
    public const string Expire = "expire";
    public const string Forget = "forget";
    public const string Drill = "drill";
    public const string Replicate = "replicate";
    public const string CatalogRebuild = "catalog_rebuild";
}

/// <summary>
/// Where events go: stored, delivered, turned into run history. A sink must not throw for its own failures (a use case
/// never fails because an event could not be delivered); it logs them.
/// </summary>
public interface IEventSink
{
    ValueTask WriteAsync(LifeboatEvent e, CancellationToken cancellationToken);
}

/// <summary>
/// What use cases publish through: wraps the data in an envelope (id, time, tenant, correlation id of the call) and
/// hands it to every registered <see cref="IEventSink"/> — the event log first (<see cref="EventLogSink"/>: the
/// catalog's outbox). A change that lives in the catalog itself (a token, a maintenance window) commits its events in
/// its own transaction with <see cref="PublishWithAsync(EventData, Func{IReadOnlyList{EventRecord}, Task})"/>, so the change and its event exist together or not at all.
/// </summary>
public sealed partial class Events
{
    private readonly CallContext _call;
    private readonly IEnumerable<IEventSink> _sinks;
    private readonly EventBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<Events> _logger;

    public Events(CallContext call, IEnumerable<IEventSink> sinks, EventBus bus, TimeProvider time, ILogger<Events> logger)
    {
        _call = call;
        _sinks = sinks;
        _bus = bus;
        _time = time;
        _logger = logger;
    }

    /// <summary>The envelope of <paramref name="data"/> in this call.</summary>
    public LifeboatEvent Envelope(EventData data)
        => new(EventIds.New(_time.GetUtcNow()), data.Type, _time.GetUtcNow(), _call.Workspace.Name, data.About, data.Severity, _call.CorrelationId, data);

    public async ValueTask PublishAsync(EventData data, CancellationToken cancellationToken)
    {
        var e = Envelope(data);
        LogEvent(_logger, e.Type, e.Source ?? "-", e.CorrelationId);
        foreach (var sink in _sinks)
        {
            await sink.WriteAsync(e, cancellationToken);
        }
    }

    /// <summary>
    /// Publishes <paramref name="data"/> as part of a catalog change: <paramref name="commit"/> writes the change and the
    /// given event records in one transaction (the outbox); the other sinks are not involved, the live stream is told.
    /// </summary>
    public Task PublishWithAsync(EventData data, Func<IReadOnlyList<EventRecord>, Task> commit) => PublishWithAsync(data, _call.Workspace.Name, commit);

    /// <summary>
    /// As <see cref="PublishWithAsync(EventData, Func{IReadOnlyList{EventRecord}, Task})"/>, into the log of
    /// <paramref name="tenant"/>: a change the host or a superadmin makes in another tenant (a token made there) is that
    /// tenant's event, heard by its webhooks — and not one of the caller's tenant, whose readers must not see it.
    /// </summary>
    public async Task PublishWithAsync(EventData data, string tenant, Func<IReadOnlyList<EventRecord>, Task> commit)
    {
        var e = Envelope(data) with { Tenant = tenant };
        LogEvent(_logger, e.Type, e.Source ?? "-", e.CorrelationId);
        await commit([EventRecords.From(e)]);
        _bus.Announce(e.Tenant);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Debug, Message = "Event {EventType} about {Source} (correlation {CorrelationId})")]
    private static partial void LogEvent(ILogger logger, string eventType, string source, string correlationId);
}
