using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Approvals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>
/// Approvals (docs/approvals.md): the requests waiting for a second person, their decisions, and the tenant's policies.
/// Who may decide is the policy's business, checked by the use case against the caller's role as the catalog has it
/// now: the endpoints ask only for a valid token of the tenant.
/// </summary>
public static class ApprovalsApi
{
    public static RouteGroupBuilder MapApprovalsApi(this RouteGroupBuilder api)
    {
        var approvals = api.MapGroup("/approvals").WithTags("approvals");
        approvals.MapGet("", async (string? state, int? limit, ListApprovals use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListApprovalsRequest(state, limit ?? 100), ct)))
            .WithName("ListApprovals").WithSummary("The approval requests, newest first (`state`: pending, approved, denied, expired, voided, executed)").RequireAuthorization(Permissions.Read);
        approvals.MapGet("/policies", async (ListApprovalPolicies use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListApprovalPoliciesRequest(), ct)))
            .WithName("ListApprovalPolicies").WithSummary("The tenant's approval policies; approvals are on while there is one").RequireAuthorization(Permissions.Read);
        approvals.MapPut("/policies", async (SetApprovalPolicyRequest request, SetApprovalPolicy use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(request, ct)))
            .WithName("SetApprovalPolicy").WithSummary("Set the policy of an `operation` (or `default`); changing an existing one needs approval (202)").RequireAuthorization(Permissions.Administer);
        approvals.MapDelete("/policies/{operation}", async (string operation, RemoveApprovalPolicy use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new RemoveApprovalPolicyRequest(operation), ct)))
            .WithName("RemoveApprovalPolicy").WithSummary("Remove the policy of an operation (`all`: approvals off); needs approval (202)").RequireAuthorization(Permissions.Administer);
        approvals.MapGet("/{id}", async (string id, ShowApproval use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ShowApprovalRequest(id), ct)))
            .WithName("ShowApproval").WithSummary("One request: the exact operation, its parameters, every decision").RequireAuthorization(Permissions.Read);
        approvals.MapPost("/{id}/approve", async (string id, DecisionBody? body, DecideApproval use, CancellationToken ct) => TypedResults.Ok(await use.ApproveAsync(new DecideApprovalRequest(id, body?.Reason), ct)))
            .WithName("ApproveRequest").WithSummary("Approve a request (never your own; one person counts once)").RequireAuthorization(Permissions.Read);
        approvals.MapPost("/{id}/deny", async (string id, DecisionBody? body, DecideApproval use, CancellationToken ct) => TypedResults.Ok(await use.DenyAsync(new DecideApprovalRequest(id, body?.Reason), ct)))
            .WithName("DenyRequest").WithSummary("Deny a request (the requester may withdraw their own)").RequireAuthorization(Permissions.Read);
        return api;
    }
}

/// <summary>The body of approve and deny.</summary>
public sealed record DecisionBody(string? Reason);
