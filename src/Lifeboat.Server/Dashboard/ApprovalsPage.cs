using System.Security.Claims;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Approvals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Dashboard;

/// <summary>
/// Approvals (docs/approvals.md): the requests (<c>ListApprovals</c>, <c>GET /api/v1/approvals</c>), one request
/// (<c>ShowApproval</c>), and approve / deny with a reason through <c>DecideApproval</c> — the use case of
/// <c>POST /api/v1/approvals/{id}/approve|deny</c>, which applies the gate's rules (the policy's role or users, the
/// requester never approving, one person counting once). The buttons are shown to those the request's rules let
/// decide (<see cref="ApprovalRules.Qualifies"/>); a POST from anyone else is a 403 page, and the use case checks again.
/// </summary>
internal static class ApprovalsPage
{
    public static RouteGroupBuilder MapApprovalsPages(this RouteGroupBuilder dashboard)
    {
        var read = DashboardAuthentication.Policy(Permissions.Read);
        dashboard.MapGet("/approvals", async (string? state, HttpContext http, ListApprovals list, CancellationToken ct) =>
            {
                state = state switch { null => ApprovalStates.Pending, "all" => null, _ => state };
                var items = (await list.ExecuteAsync(new ListApprovalsRequest(state, 100), ct)).Items;
                var states = ApprovalStates.All.Prepend("all").Select(s => Html.Of($"""<option value="{s}"{((state ?? "all") == s ? Html.Of($" selected") : Html.Empty)}>{s}</option>"""));
                var rows = items.Select(a => Html.Of($"""
                    <tr data-approval="{a.Id}">
                    <th scope="row"><a href="{"/approvals/" + Uri.EscapeDataString(a.Id)}">{a.Id}</a></th>
                    <td>{a.Operation}</td><td>{a.Source ?? ""}</td><td>{a.Description}</td><td>{a.RequestedBy}</td>
                    <td>{Layout.Time(a.Created)}</td><td class="approval-state">{a.State}</td><td>{a.Approvals} of {a.Required}</td>
                    </tr>
                    """)).ToList();
                return Layout.Render(http, Layout.Page(http, "Approvals", Html.Of($"""
                    <h1>Approvals</h1>
                    <form class="filters" method="get" action="/approvals" role="search">
                    <div><label for="state">State</label><select id="state" name="state">{states}</select></div>
                    <div><button type="submit">Show</button></div>
                    </form>
                    {(rows.Count == 0 ? Html.Of($"<p id=\"no-approvals\">No request.</p>") : Html.Of($"""
                        <div class="scroll"><table id="approvals">
                        <thead><tr><th scope="col">Request</th><th scope="col">Operation</th><th scope="col">Source</th><th scope="col">What</th><th scope="col">Asked by</th><th scope="col">Asked</th><th scope="col">State</th><th scope="col">Approvals</th></tr></thead>
                        <tbody>{rows}</tbody>
                        </table></div>
                        """))}
                    """)));
            })
            .RequireAuthorization(read);

        dashboard.MapGet("/approvals/{id}", async (string id, HttpContext http, ShowApproval show, CallContext call, CancellationToken ct) =>
            {
                var approval = await show.ExecuteAsync(new ShowApprovalRequest(id), ct);
                return Layout.Render(http, Layout.Page(http, "Approval " + approval.Id, Detail(http, call, approval)));
            })
            .RequireAuthorization(read);

        dashboard.MapPost("/approvals/{id}/approve", (string id, HttpContext http, ShowApproval show, DecideApproval decide, CallContext call, CancellationToken ct)
                => DecideAsync(http, id, approve: true, show, decide, call, ct))
            .RequireAuthorization(read);
        dashboard.MapPost("/approvals/{id}/deny", (string id, HttpContext http, ShowApproval show, DecideApproval decide, CallContext call, CancellationToken ct)
                => DecideAsync(http, id, approve: false, show, decide, call, ct))
            .RequireAuthorization(read);
        return dashboard;
    }

    private static async Task<IResult> DecideAsync(HttpContext http, string id, bool approve, ShowApproval show, DecideApproval decide, CallContext call, CancellationToken ct)
    {
        if (!await Layout.ValidateCsrfAsync(http))
        {
            return Layout.Render(http, Layout.CsrfRefused(http), StatusCodes.Status400BadRequest);
        }

        var approval = await show.ExecuteAsync(new ShowApprovalRequest(id), ct);
        var (mayApprove, mayDeny) = MayDecide(http, call, approval);
        if (!(approve ? mayApprove : mayDeny))
        {
            return Layout.Render(http, Layout.Forbidden(http, $"You may not {(approve ? "approve" : "deny")} approval request {approval.Id}: it needs {ApprovalRules.Describe(approval.Role, approval.Users)}{(approve && Principal(call) == approval.RequestedBy ? ", and the requester never approves their own" : "")}."), StatusCodes.Status403Forbidden);
        }

        var form = await http.Request.ReadFormAsync(ct);
        var reason = form["reason"].ToString().Trim();
        var request = new DecideApprovalRequest(id, reason.Length == 0 ? null : reason);
        _ = approve ? await decide.ApproveAsync(request, ct) : await decide.DenyAsync(request, ct);
        // After a POST, a GET (reloading the page does not decide twice).
        return Results.Redirect("/approvals/" + Uri.EscapeDataString(id));
    }

    private static string Principal(CallContext call) => ApprovalPrincipal.Of(call.Actor);

    /// <summary>Whom the request's rules let approve (qualified, not the requester) and deny (qualified, or the requester withdrawing).</summary>
    private static (bool Approve, bool Deny) MayDecide(HttpContext http, CallContext call, ApprovalView approval)
    {
        if (approval.State != ApprovalStates.Pending)
        {
            return (false, false);
        }

        var principal = Principal(call);
        var qualifies = ApprovalRules.Qualifies(principal, http.User.FindFirstValue(ClaimTypes.Role), approval.Role, approval.Users);
        var requester = principal == approval.RequestedBy;
        return (qualifies && !requester, qualifies || requester);
    }

    private static Html Detail(HttpContext http, CallContext call, ApprovalView a)
    {
        var (mayApprove, mayDeny) = MayDecide(http, call, a);
        var parameters = a.Parameters.Select(p => Html.Of($"<li>{p.Key} = {p.Value ?? "null"}</li>"));
        var decisions = a.Decisions.Select(d => Html.Of($"""
            <tr><td>{d.By}</td><td>{d.Role ?? ""}</td><td class="decision">{d.Decision}</td><td>{Layout.Time(d.Time)}</td><td class="reason">{d.Reason ?? ""}</td></tr>
            """)).ToList();
        var buttons = (mayApprove ? Html.Of($"""<button type="submit" formaction="{"/approvals/" + Uri.EscapeDataString(a.Id) + "/approve"}">Approve</button> """) : Html.Empty, mayDeny ? Html.Of($"""<button type="submit" formaction="{"/approvals/" + Uri.EscapeDataString(a.Id) + "/deny"}">Deny</button>""") : Html.Empty);
        var form = mayApprove || mayDeny
            ? Html.Of($"""
                <form method="post" action="{"/approvals/" + Uri.EscapeDataString(a.Id) + "/deny"}" id="decide">
                {Layout.Csrf(http)}
                <label for="reason">Reason (recorded with your decision)</label>
                <textarea id="reason" name="reason" rows="2"></textarea>
                <p>{buttons.Item1}{buttons.Item2}</p>
                </form>
                """)
            : Html.Of($"""<p class="muted" id="no-decision">{(a.State == ApprovalStates.Pending ? $"You may not decide on this request: it needs {ApprovalRules.Describe(a.Role, a.Users)}." : $"This request is {a.State}: it takes no more decisions.")}</p>""");
        return Html.Of($"""
            <h1>Approval {a.Id}</h1>
            <dl id="approval">
            <dt>State</dt><dd id="approval-state">{a.State}{(a.Reason is null ? Html.Empty : Html.Of($" ({a.Reason})"))}</dd>
            <dt>Operation</dt><dd>{a.Operation}</dd>
            <dt>What</dt><dd>{a.Description}</dd>
            <dt>Source</dt><dd>{a.Source ?? "none"}</dd>
            <dt>Parameters</dt><dd><ul>{parameters}</ul></dd>
            <dt>Asked by</dt><dd>{a.RequestedBy}, {Layout.Time(a.Created)}</dd>
            <dt>Needs</dt><dd>{a.Required} approval(s) by {ApprovalRules.Describe(a.Role, a.Users)}, before {Layout.Time(a.ApproveBy)}</dd>
            <dt>Approvals</dt><dd>{a.Approvals} of {a.Required}</dd>
            </dl>
            {form}
            <h2>Decisions</h2>
            {(decisions.Count == 0 ? Html.Of($"<p>None yet.</p>") : Html.Of($"""
                <div class="scroll"><table id="decisions">
                <thead><tr><th scope="col">By</th><th scope="col">Role</th><th scope="col">Decision</th><th scope="col">When</th><th scope="col">Reason</th></tr></thead>
                <tbody>{decisions}</tbody>
                </table></div>
                """))}
            <p><a href="/approvals">All pending requests</a></p>
            """);
    }
}
