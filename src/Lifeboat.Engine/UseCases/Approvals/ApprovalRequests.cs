using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>`approvals list`: the tenant's requests, newest first; requests whose window ended are expired as they are read.</summary>
public sealed class ListApprovals : IUseCase<ListApprovalsRequest, ApprovalList>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly ApprovalRules _rules;

    public ListApprovals(CallContext call, CatalogAccess catalog, ApprovalRules rules)
    {
        _call = call;
        _catalog = catalog;
        _rules = rules;
    }

    public async Task<ApprovalList> ExecuteAsync(ListApprovalsRequest request, CancellationToken cancellationToken)
    {
        if (request.State is { } state && !ApprovalStates.All.Contains(state, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«state» '{state}' is not a state of an approval request", "give one of: " + string.Join(", ", ApprovalStates.All));
        }

        if (request.Limit is < 1 or > 1000)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«limit» {request.Limit} is out of range", "ask for 1 to 1000 requests");
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var tenant = _call.Workspace.Name;
        // Settle the open ones first, so that "pending" never lists a request that can no longer be approved.
        foreach (var open in (await catalog.ApprovalRequestsAsync(tenant, ApprovalStates.Pending, 1000, cancellationToken))
                 .Concat(await catalog.ApprovalRequestsAsync(tenant, ApprovalStates.Approved, 1000, cancellationToken)))
        {
            await _rules.SettleAsync(catalog, open, cancellationToken);
        }

        var items = new List<ApprovalView>();
        foreach (var record in await catalog.ApprovalRequestsAsync(tenant, request.State, request.Limit, cancellationToken))
        {
            items.Add(await _rules.ViewAsync(catalog, record, cancellationToken));
        }

        return new ApprovalList(items);
    }
}

/// <summary>`approvals show ID`: one request with its exact parameters and every decision.</summary>
public sealed class ShowApproval : IUseCase<ShowApprovalRequest, ApprovalView>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly ApprovalRules _rules;

    public ShowApproval(CallContext call, CatalogAccess catalog, ApprovalRules rules)
    {
        _call = call;
        _catalog = catalog;
        _rules = rules;
    }

    public async Task<ApprovalView> ExecuteAsync(ShowApprovalRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var record = await catalog.ApprovalRequestAsync(_call.Workspace.Name, request.Id, cancellationToken) ?? throw ApprovalRules.NotFound(request.Id);
        return await _rules.ViewAsync(catalog, await _rules.SettleAsync(catalog, record, cancellationToken), cancellationToken);
    }
}

/// <summary>
/// `approvals approve ID` / `deny ID`: one person's decision. Refused: the requester approving their own request, a
/// person whose current role (read from the catalog now, not from when the request was made) or name the policy does
/// not admit, a token of another tenant, a request no longer pending (expired, voided, decided). The same person twice
/// counts once. Audited with the reason; the decision that decides the request publishes <c>approval.granted</c> or
/// <c>approval.denied</c> in the same transaction.
/// </summary>
public sealed class DecideApproval
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly ApprovalRules _rules;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;

    public DecideApproval(CallContext call, CatalogAccess catalog, ApprovalRules rules, Events events, AuditTrail audit, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _rules = rules;
        _events = events;
        _audit = audit;
        _time = time;
    }

    public Task<ApprovalView> ApproveAsync(DecideApprovalRequest request, CancellationToken cancellationToken) => DecideAsync(request, ApprovalRules.Approve, cancellationToken);

    public Task<ApprovalView> DenyAsync(DecideApprovalRequest request, CancellationToken cancellationToken) => DecideAsync(request, ApprovalRules.Deny, cancellationToken);

    private async Task<ApprovalView> DecideAsync(DecideApprovalRequest request, string decision, CancellationToken cancellationToken)
    {
        var action = decision == ApprovalRules.Approve ? "approval.approve" : "approval.deny";
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var record = await catalog.ApprovalRequestAsync(_call.Workspace.Name, request.Id, cancellationToken) ?? throw ApprovalRules.NotFound(request.Id);
        try
        {
            record = await _rules.SettleAsync(catalog, record, cancellationToken);
            if (record.State != ApprovalStates.Pending)
            {
                throw new LifeboatException(ErrorCode.Refused, $"approval request {record.Id} is {record.State}{(record.Reason is null ? "" : " (" + record.Reason + ")")}: it takes no more decisions", record.State is ApprovalStates.Expired or ApprovalStates.Voided ? "the requester asks again by running the operation again" : null);
            }

            var (principal, role, tokenId) = await _rules.CurrentApproverAsync(catalog, cancellationToken);
            if (principal == record.RequestedBy && decision == ApprovalRules.Approve)
            {
                throw new LifeboatException(ErrorCode.Refused, $"'{principal}' asked for approval request {record.Id} and cannot approve it: the requester never counts", "another person approves it");
            }

            if (principal != record.RequestedBy && !ApprovalRules.Qualifies(principal, role, record.Role, record.Users))
            {
                throw new LifeboatException(ErrorCode.Refused, $"'{principal}'{(role is null ? "" : " (role " + role + ")")} may not decide on approval request {record.Id}: it needs {ApprovalRules.Describe(record.Role, record.Users)}", "ask someone the policy names (`lifeboat approvals show` says who)");
            }

            var now = _time.GetUtcNow();
            var policy = await catalog.ApprovalPolicyAsync(record.Tenant, record.PolicyVersion.Split('@')[0], cancellationToken);
            var executeBy = now + (policy is null ? ApprovalRules.DefaultExecuteWithin : TimeSpan.FromSeconds(policy.ExecuteWithinSeconds));
            var outcome = ApprovalDecisionOutcome.NotPending;
            var change = decision == ApprovalRules.Approve ? "granted" : principal == record.RequestedBy ? "withdrawn" : "denied";
            await _events.PublishWithAsync(
                new ApprovalChanged(record.Id, change, record.Operation, record.Source, record.RequestedBy, principal, request.Reason, ApprovalRules.Link(_call.Workspace, record.Id)),
                async events => outcome = await catalog.RecordApprovalDecisionAsync(
                    new ApprovalDecisionRecord { RequestId = record.Id, Principal = principal, Decision = decision, Role = role, TokenId = tokenId, Time = now, Reason = request.Reason },
                    executeBy,
                    events,
                    cancellationToken));
            switch (outcome)
            {
                case ApprovalDecisionOutcome.Duplicate:
                    throw new LifeboatException(ErrorCode.Refused, $"'{principal}' already decided on approval request {record.Id}: one person counts once", "another person approves it");
                case ApprovalDecisionOutcome.NotPending:
                    throw new LifeboatException(ErrorCode.Refused, $"approval request {record.Id} was decided meanwhile: it takes no more decisions", "`lifeboat approvals show` shows how it ended");
            }

            await _audit.RecordAsync(new AuditEntry(action, record.Id, new Dictionary<string, string?> { ["reason"] = request.Reason, ["operation"] = record.Operation }, AuditResults.Succeeded, 200), cancellationToken);
            var after = await catalog.ApprovalRequestAsync(record.Tenant, record.Id, cancellationToken) ?? record;
            return await _rules.ViewAsync(catalog, after, cancellationToken);
        }
        catch (LifeboatException ex) when (ex.Code == ErrorCode.Refused)
        {
            await _audit.RecordAsync(new AuditEntry(action, record.Id, new Dictionary<string, string?> { ["reason"] = request.Reason, ["refused"] = ex.Message }, AuditResults.Denied, 422), cancellationToken);
            throw;
        }
    }
}

/// <summary>`--wait`: waits for the decision on a request: returns it approved; throws when it is denied, expired or voided.</summary>
public sealed class AwaitApproval : IUseCase<AwaitApprovalRequest, ApprovalView>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly ApprovalRules _rules;
    private readonly TimeProvider _time;

    public AwaitApproval(CallContext call, CatalogAccess catalog, ApprovalRules rules, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _rules = rules;
        _time = time;
    }

    public async Task<ApprovalView> ExecuteAsync(AwaitApprovalRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var started = _time.GetUtcNow();
        while (true)
        {
            var record = await catalog.ApprovalRequestAsync(_call.Workspace.Name, request.Id, cancellationToken) ?? throw ApprovalRules.NotFound(request.Id);
            record = await _rules.SettleAsync(catalog, record, cancellationToken);
            switch (record.State)
            {
                case ApprovalStates.Approved:
                    return await _rules.ViewAsync(catalog, record, cancellationToken);
                case ApprovalStates.Pending:
                    break;
                default:
                    throw new LifeboatException(ErrorCode.Refused, $"approval request {record.Id} was {record.State}{(record.Reason is null ? "" : ": " + record.Reason)}; nothing was done", null);
            }

            if (request.Timeout is { } timeout && _time.GetUtcNow() - started >= timeout)
            {
                throw new ApprovalRequiredException(await _rules.ViewAsync(catalog, record, cancellationToken), existing: true);
            }

            await Task.Delay(request.PollInterval ?? TimeSpan.FromSeconds(2), _time, cancellationToken);
        }
    }
}
