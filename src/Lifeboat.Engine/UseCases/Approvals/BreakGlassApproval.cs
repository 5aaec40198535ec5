using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>
/// `approvals break-glass ID --reason R --key-file FILE` (docs/approvals.md, "Break-glass"): when the approvers cannot
/// be reached in an emergency, the host's command line approves a pending request alone. Only the command line (no
/// route of the API reaches it), only with the repository's key given explicitly (<c>--key-file</c> or
/// <c>--passphrase-file</c>, and it must open the repository), only with a reason. It is as loud as it gets: an
/// <c>approval.break_glass</c> event of severity critical (every channel that routes critical events hears it) and an
/// <c>approval.break_glass</c> audit entry. The requester still executes the request, once, as approved.
/// </summary>
public sealed class BreakGlassApproval : IUseCase<BreakGlassRequest, ApprovalView>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly ApprovalRules _rules;
    private readonly RepositoryOpener _opener;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;

    public BreakGlassApproval(CallContext call, CatalogAccess catalog, ApprovalRules rules, RepositoryOpener opener, Events events, AuditTrail audit, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _rules = rules;
        _opener = opener;
        _events = events;
        _audit = audit;
        _time = time;
    }

    public async Task<ApprovalView> ExecuteAsync(BreakGlassRequest request, CancellationToken cancellationToken)
    {
        const string action = "approval.break_glass";
        if (_call.Actor.Kind != "cli")
        {
            throw new LifeboatException(ErrorCode.Refused, $"'{_call.Actor.Name}' may not break the glass: it is for the Lifeboat host's command line only", "ask the approvers, or an operator with access to the host and the repository key");
        }

        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            throw new LifeboatException(ErrorCode.Usage, "«--reason» is required: breaking the glass bypasses every approver, and the reason goes to all of them", "say why the approvers cannot decide: --reason \"primary down, approvers unreachable, incident 4711\"");
        }

        if (_call.Workspace.Keys is { KeyFile: null, PassphraseFile: null })
        {
            throw new LifeboatException(ErrorCode.Usage, "breaking the glass needs the repository key in hand: «--key-file» or «--passphrase-file» given on this command, not the one the configuration points to", "add --key-file FILE (the repository's key file) or --passphrase-file FILE");
        }

        var reason = request.Reason.Trim();
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var record = await catalog.ApprovalRequestAsync(_call.Workspace.Name, request.Id, cancellationToken) ?? throw ApprovalRules.NotFound(request.Id);
        try
        {
            // The key must open the repository (a wrong one is WrongPassphrase, exit 2).
            await using (await _opener.OpenAsync(cancellationToken))
            {
            }

            record = await _rules.SettleAsync(catalog, record, cancellationToken);
            if (record.State != ApprovalStates.Pending)
            {
                throw new LifeboatException(ErrorCode.Refused, $"approval request {record.Id} is {record.State}{(record.Reason is null ? "" : " (" + record.Reason + ")")}: only a pending request can be approved by breaking the glass", "run the operation again: it makes a new request");
            }

            var principal = "break-glass:" + ApprovalPrincipal.Of(_call.Actor);
            var now = _time.GetUtcNow();
            var policy = await catalog.ApprovalPolicyAsync(record.Tenant, record.PolicyVersion.Split('@')[0], cancellationToken);
            var executeBy = now + (policy is null ? ApprovalRules.DefaultExecuteWithin : TimeSpan.FromSeconds(policy.ExecuteWithinSeconds));
            var outcome = Catalog.ApprovalDecisionOutcome.NotPending;
            await _events.PublishWithAsync(
                new ApprovalChanged(record.Id, "break_glass", record.Operation, record.Source, record.RequestedBy, principal, reason, ApprovalRules.Link(_call.Workspace, record.Id)),
                async events => outcome = await catalog.RecordApprovalDecisionAsync(
                    new Catalog.ApprovalDecisionRecord { RequestId = record.Id, Principal = principal, Decision = ApprovalRules.BreakGlass, Role = null, TokenId = null, Time = now, Reason = reason },
                    executeBy,
                    events,
                    cancellationToken));
            if (outcome != Catalog.ApprovalDecisionOutcome.Decided)
            {
                throw new LifeboatException(ErrorCode.Refused, $"approval request {record.Id} was decided meanwhile: nothing was overridden", "`lifeboat approvals show` shows how it ended");
            }

            await _audit.RecordAsync(new AuditEntry(action, record.Id, new Dictionary<string, string?> { ["reason"] = reason, ["operation"] = record.Operation }, AuditResults.Succeeded, 200), cancellationToken);
            var after = await catalog.ApprovalRequestAsync(record.Tenant, record.Id, cancellationToken) ?? record;
            return await _rules.ViewAsync(catalog, after, cancellationToken);
        }
        catch (LifeboatException ex)
        {
            await _audit.RecordAsync(new AuditEntry(action, record.Id, new Dictionary<string, string?> { ["reason"] = reason, ["refused"] = ex.Message }, AuditResults.Denied, 422), cancellationToken);
            throw;
        }
    }
}
