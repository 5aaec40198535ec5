using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>The states of an approval request (docs/approvals.md).</summary>
public static class ApprovalStates
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Voided = "voided";
    public const string Executed = "executed";

    public static readonly IReadOnlyList<string> All = [Pending, Approved, Denied, Expired, Voided, Executed];
}

/// <summary>A policy as shown: the operation, how many approvals from whom, and the two windows.</summary>
/// <param name="Configured">Set in the configuration file (Approvals:Policies): the API cannot change or remove it.</param>
public sealed record ApprovalPolicyView(string Operation, int Approvals, string? Role, IReadOnlyList<string> Users, TimeSpan ApproveWithin, TimeSpan ExecuteWithin, DateTimeOffset Updated, string UpdatedBy, bool Configured)
{
    public static ApprovalPolicyView From(ApprovalPolicyRecord p) => new(
        p.Operation, p.Approvals, p.Role, ApprovalRules.SplitUsers(p.Users), TimeSpan.FromSeconds(p.ApproveWithinSeconds), TimeSpan.FromSeconds(p.ExecuteWithinSeconds), p.Updated, p.UpdatedBy,
        ConfiguredApprovalPolicies.IsConfigured(p));
}

/// <summary>One person's decision on a request.</summary>
public sealed record ApprovalDecisionView(string By, string Decision, string? Role, DateTimeOffset Time, string? Reason);

/// <summary>An approval request as shown: the exact operation and its parameters, who asked, the decisions, the windows.</summary>
public sealed record ApprovalView(
    string Id,
    string Operation,
    string? Source,
    string Description,
    IReadOnlyDictionary<string, string?> Parameters,
    string State,
    string RequestedBy,
    DateTimeOffset Created,
    DateTimeOffset ApproveBy,
    int Required,
    string? Role,
    string? Users,
    DateTimeOffset? Approved,
    DateTimeOffset? ExecuteBy,
    DateTimeOffset? Finished,
    string? Reason,
    IReadOnlyList<ApprovalDecisionView> Decisions)
{
    public int Approvals => Decisions.Count(d => d.Decision == ApprovalRules.Approve);

    public static ApprovalView From(ApprovalRequestRecord r, IReadOnlyList<ApprovalDecisionRecord> decisions) => new(
        r.Id,
        r.Operation,
        r.Source,
        r.Description,
        JsonSerializer.Deserialize(r.Parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString) ?? new Dictionary<string, string?>(),
        r.State,
        r.RequestedBy,
        r.Created,
        r.ApproveBy,
        r.Required,
        r.Role,
        r.Users,
        r.Approved,
        r.ExecuteBy,
        r.Finished,
        r.Reason,
        decisions.Select(d => new ApprovalDecisionView(d.Principal, d.Decision, d.Role, d.Time, d.Reason)).ToList());
}

/// <param name="Operation">An operation of <see cref="DestructiveOperations.All"/>, or <c>default</c> for the default set.</param>
/// <param name="Approvals">How many distinct people must approve (1–10); the requester never counts.</param>
/// <param name="Role">The role an approver holds (or one holding every permission it holds); null: only <paramref name="Users"/>.</param>
/// <param name="Users">People who may approve whatever their role: token names, or <c>cli:USER</c> for an OS user at the command line.</param>
/// <param name="ApproveWithin">How long a request may wait for approval (default 24h).</param>
/// <param name="ExecuteWithin">How long an approved request may wait to be executed (default 1h).</param>
public sealed record SetApprovalPolicyRequest(string Operation, int Approvals, string? Role = null, IReadOnlyList<string>? Users = null, string? ApproveWithin = null, string? ExecuteWithin = null);

/// <param name="Operation">The policy's operation, or <c>all</c> to remove every policy (turns approvals off).</param>
public sealed record RemoveApprovalPolicyRequest(string Operation);

public sealed record ListApprovalPoliciesRequest;

public sealed record ApprovalPolicyList(bool Enabled, IReadOnlyList<ApprovalPolicyView> Items)
{
    /// <summary>A tenant's policies as stored; approvals are on while there is one.</summary>
    public static ApprovalPolicyList Of(IEnumerable<ApprovalPolicyRecord> policies)
    {
        var items = policies.Select(ApprovalPolicyView.From).ToList();
        return new ApprovalPolicyList(items.Count > 0, items);
    }
}

/// <param name="State">Only requests in this state (pending, approved, denied, expired, voided, executed).</param>
public sealed record ListApprovalsRequest(string? State = null, int Limit = 100);

public sealed record ApprovalList(IReadOnlyList<ApprovalView> Items);

public sealed record ShowApprovalRequest(string Id);

/// <param name="Reason">Why (kept in the audit trail and the event).</param>
public sealed record DecideApprovalRequest(string Id, string? Reason = null);

/// <param name="Reason">Why the approvers were bypassed (required; in the event and the audit trail).</param>
public sealed record BreakGlassRequest(string Id, string? Reason);

/// <param name="Timeout">How long to wait for the decision; null: until the request's approval window ends.</param>
public sealed record AwaitApprovalRequest(string Id, TimeSpan? Timeout = null, TimeSpan? PollInterval = null);
