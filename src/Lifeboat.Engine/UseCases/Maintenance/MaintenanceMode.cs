using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Maintenance;

/// <param name="Source">The source to pause; null: every source (global maintenance).</param>
/// <param name="Reason">Why, shown in refusals, status and events.</param>
/// <param name="Duration">How long until it ends by itself (2h, 30m, 1d); null: until someone leaves it.</param>
public sealed record EnterMaintenanceRequest(string? Source = null, string? Reason = null, string? Duration = null);

/// <param name="Source">The source whose maintenance ends; null: the global one.</param>
public sealed record LeaveMaintenanceRequest(string? Source = null);

public sealed record GetMaintenanceRequest;

/// <summary>The maintenance windows in force now, the global one first (a list in the API's shape; never paged).</summary>
public sealed record MaintenanceList(IReadOnlyList<MaintenanceWindow> Items, string? Next = null);

/// <summary>What leaving did: the window that ended, or null when none was in force (leaving is harmless then).</summary>
public sealed record LeaveMaintenanceResult(string? Source, MaintenanceWindow? Ended);

/// <summary>
/// `maintenance enter`: pauses a source (or every source) — its scheduled jobs are skipped, writes to it (backup,
/// restore, forget, expire, removal) are refused with <see cref="ErrorCode.Maintenance"/> — until someone leaves
/// maintenance or the duration has passed. Entering again replaces the window. Audited and published.
/// </summary>
public sealed class EnterMaintenance : IUseCase<EnterMaintenanceRequest, MaintenanceWindow>
{
    private const int MaxReason = 500;
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly AuditTrail _audit;
    private readonly Events _events;
    private readonly TimeProvider _time;

    public EnterMaintenance(CallContext call, CatalogAccess catalog, AuditTrail audit, Events events, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _audit = audit;
        _events = events;
        _time = time;
    }

    public async Task<MaintenanceWindow> ExecuteAsync(EnterMaintenanceRequest request, CancellationToken cancellationToken)
    {
        var source = string.IsNullOrWhiteSpace(request.Source) ? null : request.Source;
        if (source is not null)
        {
            _call.Workspace.GetSource(source);
        }

        TimeSpan? duration = null;
        if (!string.IsNullOrWhiteSpace(request.Duration))
        {
            duration = Core.Duration.Parse(request.Duration, FieldText.Ref("duration"));
            if (duration <= TimeSpan.Zero)
            {
                throw new LifeboatException(ErrorCode.Usage, $"«duration» '{request.Duration}' is not a positive duration", "for example 2h, 30m or 1d; leave it out to stay in maintenance until it is left");
            }
        }

        var reason = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason.Trim();
        if (reason is { Length: > MaxReason })
        {
            throw new LifeboatException(ErrorCode.Usage, $"«reason» is {reason.Length} characters long, more than {MaxReason}", "say it in a sentence; a ticket number is enough");
        }

        var now = _time.GetUtcNow();
        var record = new MaintenanceRecord
        {
            Tenant = _call.Workspace.Name,
            Scope = source ?? MaintenanceRecord.Global,
            Reason = reason,
            Started = now,
            Ends = duration is { } d ? now + d : null,
            Actor = _call.Actor.Name,
        };
        var catalog = await _catalog.OpenAsync(cancellationToken);
        await _events.PublishWithAsync(new MaintenanceEntered(source, reason, now, record.Ends, record.Actor), events => catalog.SaveMaintenanceAsync(record, events, cancellationToken));
        var window = MaintenanceWindow.From(record);
        await _audit.RecordAsync(new AuditEntry(AuditActions.MaintenanceEnter, source ?? MaintenanceRecord.Global, new Dictionary<string, string?>
        {
            ["reason"] = reason,
            ["duration"] = request.Duration,
            ["ends"] = record.Ends?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        }, AuditResults.Succeeded, 200), cancellationToken);
        return window;
    }
}

/// <summary>`maintenance leave`: ends the maintenance of a source (or the global one) now. Audited; published when one was in force.</summary>
public sealed class LeaveMaintenance : IUseCase<LeaveMaintenanceRequest, LeaveMaintenanceResult>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly AuditTrail _audit;
    private readonly Events _events;
    private readonly TimeProvider _time;

    public LeaveMaintenance(CallContext call, CatalogAccess catalog, AuditTrail audit, Events events, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _audit = audit;
        _events = events;
        _time = time;
    }

    public async Task<LeaveMaintenanceResult> ExecuteAsync(LeaveMaintenanceRequest request, CancellationToken cancellationToken)
    {
        // A source removed from the configuration may still be in maintenance: its name is not checked against it.
        var source = string.IsNullOrWhiteSpace(request.Source) ? null : request.Source;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var (tenant, scope) = (_call.Workspace.Name, source ?? MaintenanceRecord.Global);
        var current = (await catalog.MaintenanceAsync(tenant, cancellationToken)).FirstOrDefault(w => w.Scope == scope);
        MaintenanceRecord? removed = null;
        if (current is not null && (current.Ends is not { } end || end > _time.GetUtcNow()))
        {
            // In force: its end is published with the removal, in one transaction.
            await _events.PublishWithAsync(new MaintenanceLeft(source, _call.Actor.Name), async events => removed = await catalog.RemoveMaintenanceAsync(tenant, scope, events, cancellationToken));
        }
        else
        {
            removed = await catalog.RemoveMaintenanceAsync(tenant, scope, cancellationToken);
        }

        var ended = removed is not null && (removed.Ends is not { } e || e > _time.GetUtcNow()) ? MaintenanceWindow.From(removed) : null;
        await _audit.RecordAsync(new AuditEntry(AuditActions.MaintenanceLeave, source ?? MaintenanceRecord.Global, new Dictionary<string, string?>
        {
            ["wasInForce"] = ended is null ? "false" : "true",
        }, AuditResults.Succeeded, 200), cancellationToken);
        return new LeaveMaintenanceResult(source, ended);
    }
}

/// <summary>`maintenance status`: the windows in force now (those whose end has passed are over).</summary>
public sealed class GetMaintenance : IUseCase<GetMaintenanceRequest, MaintenanceList>
{
    private readonly MaintenanceGate _gate;
    private readonly CatalogAccess _catalog;

    public GetMaintenance(MaintenanceGate gate, CatalogAccess catalog)
    {
        _gate = gate;
        _catalog = catalog;
    }

    public async Task<MaintenanceList> ExecuteAsync(GetMaintenanceRequest request, CancellationToken cancellationToken)
    {
        await _catalog.OpenAsync(cancellationToken); // an unreadable catalog is an error here, not "no maintenance"
        return new MaintenanceList(await _gate.ActiveAsync(cancellationToken));
    }
}
