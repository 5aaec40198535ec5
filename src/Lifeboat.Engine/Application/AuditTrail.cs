using System.Text.Json;
using Lifeboat.Catalog;

namespace Lifeboat.Engine.Application;

/// <summary>
/// What a call did, for the audit trail: the action (<c>token.create</c>, a route, …), what it was done to, its
/// parameters (redacted by <see cref="AuditTrail"/>), and how it ended.
/// </summary>
/// <param name="Action">A stable name: <c>area.verb</c> (see <see cref="AuditActions"/>).</param>
/// <param name="Target">What it was done to (a token id, a source name), or null.</param>
/// <param name="Parameters">What decided what happened. Keys that may carry secrets are redacted whatever the caller passes.</param>
/// <param name="Result">succeeded, failed or denied (<see cref="AuditResults"/>).</param>
/// <param name="Status">The HTTP status of the answer (200, 201, 400, 403, …); calls outside HTTP write the status an API call would have had.</param>
public sealed record AuditEntry(string Action, string? Target, IReadOnlyDictionary<string, string?>? Parameters, string Result, int Status);

/// <summary>Stable names of the audited actions the application layer records itself.</summary>
public static class AuditActions
{
    public const string TokenCreate = "token.create";
    public const string TokenRevoke = "token.revoke";
    public const string MaintenanceEnter = "maintenance.enter";
    public const string MaintenanceLeave = "maintenance.leave";
}

public static class AuditResults
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Denied = "denied";
}

/// <summary>
/// The audit trail of the call's workspace: appends an entry with the time, the tenant (the workspace), the actor of
/// the call (kind, name, token id, role, remote address) and its correlation id. Append-only: there is no way to
/// change or remove an entry. Unlike the run history, a failure to write it fails the call. Scoped: one per call.
/// </summary>
public sealed class AuditTrail
{
    /// <summary>What replaces the value of a parameter whose key may name a secret.</summary>
    public const string Redacted = "[redacted]";

    private static readonly string[] SecretWords = ["secret", "password", "passphrase", "token", "key"];

    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly UseCases.Health.StatusCache _status;

    public AuditTrail(CallContext call, CatalogAccess catalog, TimeProvider time, UseCases.Health.StatusCache status)
    {
        _status = status;
        _call = call;
        _catalog = catalog;
        _time = time;
    }

    /// <summary>
    /// Whether this call already wrote an entry (a use case that audits itself, such as token creation): an adapter
    /// that audits every mutating call writes its own entry only when this is false, so nothing is recorded twice.
    /// </summary>
    public bool HasRecorded { get; private set; }

    public Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken) => RecordAsync(entry, true, cancellationToken);

    /// <summary>
    /// Appends the entry; <paramref name="isTheCall"/> false for a step inside a call (an approval checked by the gate)
    /// that does not replace the adapter's entry of the call itself.
    /// </summary>
    public Task RecordAsync(AuditEntry entry, bool isTheCall, CancellationToken cancellationToken) => RecordAsync(entry, _call.Workspace.Name, isTheCall, cancellationToken);

    /// <summary>
    /// Appends the entry to the trail of <paramref name="tenant"/>: what the host or a superadmin did inside another tenant
    /// is audited there, with its details; the caller's own trail gets a summary naming the tenant only (the caller's
    /// tenant's auditors must not read another tenant's token names and ids).
    /// </summary>
    public async Task RecordAsync(AuditEntry entry, string tenant, bool isTheCall, CancellationToken cancellationToken)
    {
        var actor = _call.Actor;
        var parameters = Redact(entry.Parameters);
        var record = new AuditRecord
        {
            Id = "aud_" + CallContext.NewId(),
            Time = _time.GetUtcNow(),
            Tenant = tenant,
            ActorKind = actor.Kind,
            Actor = actor.Name,
            TokenId = actor.TokenId,
            Role = actor.Role,
            RemoteAddress = actor.RemoteAddress,
            Action = entry.Action,
            Target = entry.Target,
            Parameters = parameters is null ? null : JsonSerializer.Serialize(parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString),
            Result = entry.Result,
            Status = entry.Status,
            CorrelationId = _call.CorrelationId,
        };
        var catalog = await _catalog.OpenAsync(cancellationToken);
        await catalog.AppendAuditAsync(record, cancellationToken);
        HasRecorded |= isTheCall;
        _status.Invalidate(); // a change was made: a status computed before it is no longer the status

    }

    /// <summary>
    /// The parameters with the value of every key that contains secret, password, passphrase, token or key (in any
    /// case) replaced by <see cref="Redacted"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, string?>? Redact(IReadOnlyDictionary<string, string?>? parameters)
    {
        if (parameters is null)
        {
            return null;
        }

        var result = new SortedDictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            result[key] = SecretWords.Any(w => key.Contains(w, StringComparison.OrdinalIgnoreCase)) ? Redacted : value;
        }

        return result;
    }
}
