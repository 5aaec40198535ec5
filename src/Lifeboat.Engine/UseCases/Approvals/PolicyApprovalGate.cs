using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>
/// The approval gate of every use case (docs/approvals.md): an operation without a policy in the tenant runs; one with
/// a policy runs only as an approved request that holds exactly it (same hash), made by the same person, executed
/// once, within its window, while its policy, its subject and its approvers' roles are what they were. Otherwise it
/// becomes (or stays) a pending request and the call ends with <see cref="ApprovalRequiredException"/>, nothing done.
/// </summary>
public sealed class PolicyApprovalGate : IApprovalGate
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;
    private readonly ApprovalRules _rules;
    private readonly ConfiguredApprovalPolicies _configured;

    public PolicyApprovalGate(CallContext call, CatalogAccess catalog, Events events, AuditTrail audit, TimeProvider time, ApprovalRules rules, ConfiguredApprovalPolicies configured)
    {
        _configured = configured;
        _call = call;
        _catalog = catalog;
        _events = events;
        _audit = audit;
        _time = time;
        _rules = rules;
    }

    public async Task AuthorizeAsync(DestructiveOperation operation, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = _call.Workspace.Name;
        // The configuration file's policies are brought in first: an edit of the file applies to this very check.
        var policies = await _configured.ApplyAsync(catalog, cancellationToken);
        var policy = policies.FirstOrDefault(p => p.Operation == operation.Operation)
            ?? (operation.FallbackPolicy is { } fallback ? policies.FirstOrDefault(p => p.Operation == fallback) : null);

        if (policy is null)
        {
            return;
        }

        var hash = ApprovalRules.Hash(operation);
        var principal = ApprovalPrincipal.Of(_call.Actor);
        ApprovalRequestRecord? request;
        if (_call.ApprovalId is { } id)
        {
            request = await catalog.ApprovalRequestAsync(tenant, id, cancellationToken) ?? throw ApprovalRules.NotFound(id);
            if (request.Operation != operation.Operation || request.Hash != hash)
            {
                await AuditAsync("approval.execute", request.Id, AuditResults.Denied, "the operation differs from the approved one", cancellationToken);
                throw new LifeboatException(ErrorCode.Refused, $"approval request {id} approved another operation: {Differences(request, operation)}; what is approved is executed exactly, or not at all", "run the command exactly as it was approved, or ask for a new approval (run it without «approval»)");
            }

            if (request.RequestedBy != principal)
            {
                throw new LifeboatException(ErrorCode.Refused, $"approval request {id} was made by '{request.RequestedBy}': only they execute it, not '{principal}'", "ask for your own approval (run the command without «approval»)");
            }
        }
        else
        {
            request = await catalog.FindApprovalRequestAsync(tenant, hash, principal, [ApprovalStates.Approved, ApprovalStates.Pending], cancellationToken);
        }

        if (request is not null)
        {
            request = await _rules.SettleAsync(catalog, request, cancellationToken);
            switch (request.State)
            {
                case ApprovalStates.Approved:
                    await ExecuteAsync(catalog, request, cancellationToken);
                    return;
                case ApprovalStates.Pending:
                    throw new ApprovalRequiredException(await _rules.ViewAsync(catalog, request, cancellationToken), existing: true);
                default:
                    if (_call.ApprovalId is not null)
                    {
                        throw new LifeboatException(ErrorCode.Refused, $"approval request {request.Id} is {request.State}{(request.Reason is null ? "" : ": " + request.Reason)}; it cannot be executed", request.State == ApprovalStates.Executed ? "an approval is for one execution: ask for a new one" : "ask for a new approval (run the command without «approval»)");
                    }

                    break;
            }
        }

        var created = await CreateAsync(catalog, operation, policy, hash, principal, cancellationToken);
        throw new ApprovalRequiredException(created, existing: false);
    }

    private async Task ExecuteAsync(LifeboatCatalog catalog, ApprovalRequestRecord request, CancellationToken cancellationToken)
    {
        // The approvals must still count now: a token revoked (or re-issued with a lesser role) after approving no longer does.
        var now = _time.GetUtcNow();
        var counted = new HashSet<string>(StringComparer.Ordinal);
        var lost = new List<string>();
        var decisions = await catalog.ApprovalDecisionsAsync(request.Id, cancellationToken);
        var brokeGlass = decisions.Any(d => d.Decision == ApprovalRules.BreakGlass);
        foreach (var decision in decisions.Where(d => d.Decision == ApprovalRules.Approve))
        {
            var role = decision.Role;
            if (decision.TokenId is { } tokenId)
            {
                var token = await catalog.TokenAsync(tokenId, cancellationToken);
                role = token is null || token.Revoked is not null || token.Expires is { } e && e <= now || token.Tenant != request.Tenant ? null : token.Role;
            }

            if (decision.Principal != request.RequestedBy && (decision.TokenId is null || role is not null) && ApprovalRules.Qualifies(decision.Principal, role, request.Role, request.Users))
            {
                counted.Add(decision.Principal);
            }
            else
            {
                lost.Add($"{decision.Principal} ({(role is null ? "token revoked or expired" : "role now " + role)})");
            }
        }

        if (counted.Count < request.Required && !brokeGlass)
        {
            await _rules.MoveAsync(catalog, request, ApprovalStates.Voided, "voided", $"approvals no longer count: {string.Join(", ", lost)}", cancellationToken);
            await AuditAsync("approval.execute", request.Id, AuditResults.Denied, "approvals no longer count", cancellationToken);
            throw new LifeboatException(ErrorCode.Refused, $"approval request {request.Id} is void: {counted.Count} of {request.Required} approval(s) still count ({string.Join(", ", lost)} no longer may approve)", "ask for a new approval: run the command again");
        }

        var executed = false;
        await _events.PublishWithAsync(
            new ApprovalChanged(request.Id, "executed", request.Operation, request.Source, request.RequestedBy, ApprovalPrincipal.Of(_call.Actor)),
            async events => executed = await catalog.MoveApprovalRequestAsync(request.Id, ApprovalStates.Approved, ApprovalStates.Executed, now, null, events, cancellationToken));
        if (!executed)
        {
            await AuditAsync("approval.execute", request.Id, AuditResults.Denied, "already executed", cancellationToken);
            throw new LifeboatException(ErrorCode.Refused, $"approval request {request.Id} was executed already: an approval is for one execution", "ask for a new approval: run the command again");
        }

        await AuditAsync("approval.execute", request.Id, AuditResults.Succeeded, null, cancellationToken);
    }

    private async Task<ApprovalView> CreateAsync(LifeboatCatalog catalog, DestructiveOperation operation, ApprovalPolicyRecord policy, string hash, string principal, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var record = new ApprovalRequestRecord
        {
            Id = "apr_" + CallContext.NewId()[..16],
            Tenant = _call.Workspace.Name,
            Operation = operation.Operation,
            Source = operation.Source,
            Description = operation.Description,
            Parameters = JsonSerializer.Serialize(operation.Parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString),
            Hash = hash,
            Subject = operation.Source is { } source ? _rules.Subject(source) : null,
            RequestedBy = principal,
            Requester = JsonSerializer.Serialize(_call.Actor, LifeboatJson.Compact.Actor),
            PolicyVersion = ApprovalRules.PolicyVersion(policy),
            Required = policy.Approvals,
            Role = policy.Role,
            Users = policy.Users,
            State = ApprovalStates.Pending,
            Created = now,
            ApproveBy = now + TimeSpan.FromSeconds(policy.ApproveWithinSeconds),
            CorrelationId = _call.CorrelationId,
        };
        await _events.PublishWithAsync(
            new ApprovalChanged(record.Id, "requested", record.Operation, record.Source, principal, Reason: record.Description, Link: ApprovalRules.Link(_call.Workspace, record.Id)),
            events => catalog.InsertApprovalRequestAsync(record, events, cancellationToken));
        await _audit.RecordAsync(new AuditEntry("approval.request", record.Id, new Dictionary<string, string?>
        {
            ["operation"] = record.Operation,
            ["source"] = record.Source,
            ["description"] = record.Description,
        }, AuditResults.Succeeded, 202), false, cancellationToken);
        return ApprovalView.From(record, []);
    }

    private static string Differences(ApprovalRequestRecord request, DestructiveOperation operation)
    {
        if (request.Operation != operation.Operation)
        {
            return $"it approved {request.Operation}, this is {operation.Operation}";
        }

        var approved = JsonSerializer.Deserialize(request.Parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string?>();
        var diffs = approved.Keys.Union(operation.Parameters.Keys).Order(StringComparer.Ordinal)
            .Where(k => (approved.TryGetValue(k, out var a) ? a : null) != (operation.Parameters.TryGetValue(k, out var b) ? b : null))
            .Select(k => $"{k} was '{(approved.TryGetValue(k, out var a) ? a : null)}', is '{(operation.Parameters.TryGetValue(k, out var b) ? b : null)}'")
            .ToList();
        if (request.Source != operation.Source)
        {
            diffs.Insert(0, $"source was '{request.Source}', is '{operation.Source}'");
        }

        return diffs.Count == 0 ? "its parameters differ" : string.Join("; ", diffs);
    }

    private Task AuditAsync(string action, string id, string result, string? why, CancellationToken cancellationToken)
        => _audit.RecordAsync(new AuditEntry(action, id, why is null ? null : new Dictionary<string, string?> { ["reason"] = why }, result, result == AuditResults.Succeeded ? 200 : 422), false, cancellationToken);
}
