using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Health;

public sealed record EvaluateHealthRequest;

/// <summary>One check whose state changed; <see cref="Event"/> is the event raised (null: it got better but is not healthy yet, recorded silently).</summary>
public sealed record HealthChange(string? Source, string Check, string? PreviousState, string State, string? Event);

public sealed record EvaluateHealthResult(IReadOnlyList<HealthChange> Changes, DateTimeOffset At);

/// <summary>
/// The server's scheduled health evaluation (Health:EvaluateInterval): computes <c>status</c>, compares each check with
/// the state the previous evaluation recorded in the catalog (none: healthy) and, on a change only, raises a health
/// alert (<see cref="HealthAlert"/>: <c>rpo.violated</c>, <c>wal.archive_stalled</c>, <c>target.unreachable</c>,
/// <c>health.violated</c>, …) when a check leaves healthy or gets worse, its resolution when it is healthy again. The
/// new state and its event are written in one transaction, only if the state stored is still the one compared with,
/// so a restart or a second server never raises the same alert twice. The repository that cannot be read is the check
/// <c>target primary</c> (critical), the other checks keep their state until it can be read again. The checks
/// <c>maintenance</c> (it has events of its own) and <c>catalog</c> (the states live there) raise no alert.
/// </summary>
public sealed class EvaluateHealth : IUseCase<EvaluateHealthRequest, EvaluateHealthResult>
{
    public const string PrimaryTargetCheck = "target primary";

    private static readonly HashSet<string> Silent = new(StringComparer.Ordinal) { "maintenance", "catalog" };

    private readonly GetStatus _status;
    private readonly CatalogAccess _catalog;
    private readonly Events _events;
    private readonly CallContext _call;
    private readonly TimeProvider _time;

    public EvaluateHealth(GetStatus status, CatalogAccess catalog, Events events, CallContext call, TimeProvider time)
    {
        _status = status;
        _catalog = catalog;
        _events = events;
        _call = call;
        _time = time;
    }

    public async Task<EvaluateHealthResult> ExecuteAsync(EvaluateHealthRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var now = _time.GetUtcNow();
        List<HealthCheck> checks;
        try
        {
            var report = await _status.ExecuteAsync(new GetStatusRequest(), cancellationToken);
            checks = [.. report.Checks, new HealthCheck("", PrimaryTargetCheck, HealthState.Healthy, "the repository can be read")];
        }
        catch (LifeboatException ex) when (ex.Code is not ErrorCode.Config)
        {
            checks = [new HealthCheck("", PrimaryTargetCheck, HealthState.Critical, $"the repository cannot be read: {Redact.ConnectionString(ex.Message)}")];
        }

        var tenant = _call.Workspace.Name;
        var stored = (await catalog.HealthStatesAsync(tenant, cancellationToken)).ToDictionary(s => (s.Source, s.Check));
        var changes = new List<HealthChange>();
        foreach (var check in checks.Where(c => !Silent.Contains(c.Name)).DistinctBy(c => (c.Source, c.Name)))
        {
            var previous = stored.TryGetValue((check.Source, check.Name), out var s) ? s : null;
            var was = previous is null ? HealthState.Healthy : Parse(previous.State);
            if (check.State == was)
            {
                continue;
            }

            var next = new HealthStateRecord(tenant, check.Source, check.Name, Name(check.State), check.Detail, now);
            var source = check.Source.Length == 0 ? null : check.Source;
            HealthAlert? alert = check.State > was ? new HealthAlert(source, check.Name, Name(check.State), Name(was), check.Detail, Resolved: false)
                : check.State == HealthState.Healthy ? new HealthAlert(source, check.Name, Name(check.State), Name(was), check.Detail, Resolved: true)
                : null;
            var changed = false;
            if (alert is null)
            {
                changed = await catalog.ChangeHealthStateAsync(next, previous?.State, [], cancellationToken);
            }
            else
            {
                await _events.PublishWithAsync(alert, async events => changed = await catalog.ChangeHealthStateAsync(next, previous?.State, events, cancellationToken));
            }

            if (changed)
            {
                changes.Add(new HealthChange(source, check.Name, previous?.State, next.State, alert?.Type));
            }
        }

        return new EvaluateHealthResult(changes, now);
    }

    private static string Name(HealthState state) => state switch { HealthState.Critical => "critical", HealthState.Warning => "warning", _ => "healthy" };

    private static HealthState Parse(string state) => state switch { "critical" => HealthState.Critical, "warning" => HealthState.Warning, _ => HealthState.Healthy };
}
