using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>`approvals policy list`: the tenant's policies; approvals are on when there is at least one.</summary>
public sealed class ListApprovalPolicies : IUseCase<ListApprovalPoliciesRequest, ApprovalPolicyList>
{
    private readonly CatalogAccess _catalog;
    private readonly ConfiguredApprovalPolicies _configured;

    public ListApprovalPolicies(CatalogAccess catalog, ConfiguredApprovalPolicies configured)
    {
        _catalog = catalog;
        _configured = configured;
    }

    public async Task<ApprovalPolicyList> ExecuteAsync(ListApprovalPoliciesRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        return ApprovalPolicyList.Of(await _configured.ApplyAsync(catalog, cancellationToken));
    }
}

/// <summary>
/// `approvals policy set`: a policy for an operation (or <c>default</c>: the default set). A new policy makes things
/// stricter and needs no approval; changing an existing one needs approval under the <c>approvals.policy</c> policy (or,
/// without one, under the policy being changed). A change voids the operation's open requests.
/// </summary>
public sealed class SetApprovalPolicy : IUseCase<SetApprovalPolicyRequest, ApprovalPolicyList>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly IApprovalGate _gate;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;
    private readonly ConfiguredApprovalPolicies _configured;

    public SetApprovalPolicy(CallContext call, CatalogAccess catalog, IApprovalGate gate, Events events, AuditTrail audit, TimeProvider time, ConfiguredApprovalPolicies configured)
    {
        _configured = configured;
        _call = call;
        _catalog = catalog;
        _gate = gate;
        _events = events;
        _audit = audit;
        _time = time;
    }

    public async Task<ApprovalPolicyList> ExecuteAsync(SetApprovalPolicyRequest request, CancellationToken cancellationToken)
    {
        var operations = request.Operation == "default" ? DestructiveOperations.Defaults : [ApprovalPolicyChecks.Operation(request.Operation)];
        _configured.EnsureNotConfigured(operations, "change");
        if (request.Approvals is < 1 or > 10)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«approvals» {request.Approvals} is out of range", "ask for 1 to 10 approvals (the requester never counts)");
        }

        if (request.Role is { } role && (!Roles.IsKnown(role) || role == Roles.Viewer))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«role» '{role}' cannot approve", "give one of: superadmin, admin, operator, auditor");
        }

        var users = (request.Users ?? []).Select(u => u.Trim()).Where(u => u.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (request.Role is null && users.Count == 0)
        {
            throw new LifeboatException(ErrorCode.Usage, "a policy needs «role» or «users»: who may approve", "for example --role admin, or --user alice --user bob");
        }

        if (users.FirstOrDefault(u => u.Contains(',', StringComparison.Ordinal)) is { } bad)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«users» '{bad}' holds a comma", "name one person per --user");
        }

        if (request.Role is null && users.Count < request.Approvals)
        {
            throw new LifeboatException(ErrorCode.Usage, $"{request.Approvals} approvals are asked of only {users.Count} named user(s)", "name more «users», give a «role», or ask for fewer «approvals»");
        }

        var approveWithin = ApprovalPolicyChecks.Window(request.ApproveWithin, "approveWithin", ApprovalRules.DefaultApproveWithin);
        var executeWithin = ApprovalPolicyChecks.Window(request.ExecuteWithin, "executeWithin", ApprovalRules.DefaultExecuteWithin);
        var tenant = _call.Workspace.Name;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var existing = (await _configured.ApplyAsync(catalog, cancellationToken)).ToDictionary(p => p.Operation, StringComparer.Ordinal);
        var usersText = users.Count == 0 ? null : string.Join(",", users);
        var parameters = new Dictionary<string, string?>
        {
            ["operation"] = request.Operation,
            ["approvals"] = request.Approvals.ToString(CultureInfo.InvariantCulture),
            ["role"] = request.Role,
            ["users"] = usersText,
            ["approveWithin"] = Duration.ToConfig(approveWithin),
            ["executeWithin"] = Duration.ToConfig(executeWithin),
        };
        var changed = operations.Where(existing.ContainsKey).ToList();
        if (changed.Count > 0)
        {
            // Replacing a policy can weaken it: it needs approval under the policy of policies (or the one replaced).
            await _gate.AuthorizeAsync(new DestructiveOperation(DestructiveOperations.ChangePolicy, null, $"change the approval policy of {string.Join(", ", changed)} to {request.Approvals} approval(s) from {ApprovalRules.Describe(request.Role, usersText)}", parameters, changed[0]), cancellationToken);
        }

        var now = _time.GetUtcNow();
        var updatedBy = ApprovalPrincipal.Of(_call.Actor);
        var records = operations.Select(op => new ApprovalPolicyRecord
        {
            Tenant = tenant,
            Operation = op,
            Approvals = request.Approvals,
            Role = request.Role,
            Users = usersText,
            ApproveWithinSeconds = (long)approveWithin.TotalSeconds,
            ExecuteWithinSeconds = (long)executeWithin.TotalSeconds,
            Version = CallContext.NewId()[..12],
            Updated = now,
            UpdatedBy = updatedBy,
        }).ToList();
        await _events.PublishWithAsync(
            new ConfigurationChanged("approval_policy", changed.Count > 0 ? "changed" : "added", request.Operation, Detail: $"{request.Approvals} approval(s) from {ApprovalRules.Describe(request.Role, usersText)}"),
            events => catalog.ChangeApprovalPoliciesAsync(tenant, records, [], now, "the approval policy changed", events, cancellationToken));
        await _audit.RecordAsync(new AuditEntry("approvals.policy.set", request.Operation, parameters, AuditResults.Succeeded, 200), cancellationToken);
        return ApprovalPolicyList.Of(await catalog.ApprovalPoliciesAsync(tenant, cancellationToken));
    }
}

/// <summary>
/// `approvals policy remove`: removes a policy (<c>all</c>: every one, which turns approvals off) — always with approval
/// under the policy of policies (or the policy removed), so that one person cannot switch approvals off.
/// </summary>
public sealed class RemoveApprovalPolicy : IUseCase<RemoveApprovalPolicyRequest, ApprovalPolicyList>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly IApprovalGate _gate;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;
    private readonly ConfiguredApprovalPolicies _configured;

    public RemoveApprovalPolicy(CallContext call, CatalogAccess catalog, IApprovalGate gate, Events events, AuditTrail audit, TimeProvider time, ConfiguredApprovalPolicies configured)
    {
        _configured = configured;
        _call = call;
        _catalog = catalog;
        _gate = gate;
        _events = events;
        _audit = audit;
        _time = time;
    }

    public async Task<ApprovalPolicyList> ExecuteAsync(RemoveApprovalPolicyRequest request, CancellationToken cancellationToken)
    {
        var tenant = _call.Workspace.Name;
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var existing = await _configured.ApplyAsync(catalog, cancellationToken);
        var removed = request.Operation == "all"
            ? existing.Select(p => p.Operation).ToList()
            : [ApprovalPolicyChecks.Operation(request.Operation)];
        _configured.EnsureNotConfigured(removed, "remove");
        if (removed.Count == 0 || removed.Any(op => existing.All(p => p.Operation != op)))
        {
            throw new LifeboatException(ErrorCode.NotFound, $"there is no approval policy for «operation» '{request.Operation}'", "`lifeboat approvals policy list` shows the policies");
        }

        await _gate.AuthorizeAsync(new DestructiveOperation(
            DestructiveOperations.ChangePolicy,
            null,
            request.Operation == "all" ? "remove every approval policy: approvals are off" : $"remove the approval policy of {request.Operation}",
            new Dictionary<string, string?> { ["remove"] = request.Operation },
            removed[0]), cancellationToken);
        var now = _time.GetUtcNow();
        await _events.PublishWithAsync(
            new ConfigurationChanged("approval_policy", "removed", request.Operation, Detail: request.Operation == "all" || removed.Count == existing.Count ? "approvals are off" : null),
            events => catalog.ChangeApprovalPoliciesAsync(tenant, [], removed, now, "the approval policy was removed", events, cancellationToken));
        await _audit.RecordAsync(new AuditEntry("approvals.policy.remove", request.Operation, null, AuditResults.Succeeded, 200), cancellationToken);
        return ApprovalPolicyList.Of(await catalog.ApprovalPoliciesAsync(tenant, cancellationToken));
    }
}

internal static class ApprovalPolicyChecks
{
    public static string Operation(string operation)
        => DestructiveOperations.All.Contains(operation, StringComparer.Ordinal)
            ? operation
            : throw new LifeboatException(ErrorCode.Usage, $"«operation» '{operation}' is not an operation a policy can name", "give one of: default, " + string.Join(", ", DestructiveOperations.All));

    public static TimeSpan Window(string? text, string field, TimeSpan fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        var value = Duration.Parse(text, FieldText.Ref(field));
        return value >= TimeSpan.FromMinutes(1) && value <= TimeSpan.FromDays(30)
            ? value
            : throw new LifeboatException(ErrorCode.Usage, $"{FieldText.Ref(field)} '{text}' is out of range", "give 1m to 30d");
    }
}
