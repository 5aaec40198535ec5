using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Approvals;

namespace Lifeboat.Cli.Commands;

/// <summary>
/// <c>lifeboat approvals policy set|list|remove</c> and <c>approvals list|show|approve|deny</c>: a second person before
/// anything destructive (docs/approvals.md).
/// </summary>
internal static class ApprovalsCommands
{
    public static Command Create(CliApp app)
    {
        var approvals = new Command("approvals", "Approvals: which destructive operations need a second person, and the requests waiting for one");
        approvals.Subcommands.Add(Policy(app));
        approvals.Subcommands.Add(List(app));
        approvals.Subcommands.Add(Show(app));
        approvals.Subcommands.Add(Decide(app, approve: true));
        approvals.Subcommands.Add(Decide(app, approve: false));
        approvals.Subcommands.Add(BreakGlass(app));
        return approvals;
    }

    private static Command Policy(CliApp app)
    {
        var policy = new Command("policy", "The approval policies of this tenant (approvals are on while there is one)");

        var operation = new Argument<string>("OPERATION") { Description = "The operation (" + string.Join(", ", DestructiveOperations.All) + "), or 'default' for the default set" };
        var count = new Option<int>("--approvals") { Description = "How many other people must approve (1-10)", Required = true, HelpName = "M" };
        var role = new Option<string?>("--role") { Description = "The role an approver holds (or a stronger one): admin, operator, auditor, superadmin", HelpName = "ROLE" };
        var users = new Option<string[]>("--user") { Description = "A person who may approve whatever their role: a token's name, or cli:USER (repeatable)", HelpName = "NAME", AllowMultipleArgumentsPerToken = false };
        var approveWithin = new Option<string?>("--approve-within") { Description = "How long a request waits for approval (default 24h)", HelpName = "DURATION" };
        var executeWithin = new Option<string?>("--execute-within") { Description = "How long an approved request may wait to run (default 1h)", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        var set = new Command("set", "Set the policy of an operation (changing an existing one needs approval)") { operation, count, role, users, approveWithin, executeWithin, json };
        set.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<SetApprovalPolicy>().ExecuteAsync(new SetApprovalPolicyRequest(parse.GetValue(operation)!, parse.GetValue(count), parse.GetValue(role), parse.GetValue(users), parse.GetValue(approveWithin), parse.GetValue(executeWithin)), ct);
            WritePolicies(call, result);
            return 0;
        }, new Dictionary<string, string> { ["operation"] = "OPERATION", ["approvals"] = "--approvals", ["users"] = "--user" }));
        policy.Subcommands.Add(set);

        var listJson = RepoCommands.JsonOption();
        var list = new Command("list", "List the policies") { listJson };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(listJson), ct, async call =>
        {
            WritePolicies(call, await call.Get<ListApprovalPolicies>().ExecuteAsync(new ListApprovalPoliciesRequest(), ct));
            return 0;
        }));
        policy.Subcommands.Add(list);

        var removed = new Argument<string>("OPERATION") { Description = "The policy's operation, or 'all' (turns approvals off)" };
        var removeJson = RepoCommands.JsonOption();
        var remove = new Command("remove", "Remove a policy (needs approval)") { removed, removeJson };
        remove.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(removeJson), ct, async call =>
        {
            WritePolicies(call, await call.Get<RemoveApprovalPolicy>().ExecuteAsync(new RemoveApprovalPolicyRequest(parse.GetValue(removed)!), ct));
            return 0;
        }, new Dictionary<string, string> { ["operation"] = "OPERATION" }));
        policy.Subcommands.Add(remove);
        return policy;
    }

    private static Command List(CliApp app)
    {
        var state = new Option<string?>("--state") { Description = "Only requests in this state: " + string.Join(", ", ApprovalStates.All), HelpName = "STATE" };
        var limit = new Option<int>("--limit") { Description = "At most this many (default 100)", DefaultValueFactory = _ => 100, HelpName = "N" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the approval requests, newest first") { state, limit, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListApprovals>().ExecuteAsync(new ListApprovalsRequest(parse.GetValue(state), parse.GetValue(limit)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ApprovalList);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no approval requests");
                return 0;
            }

            call.Output.Table(["ID", "OPERATION", "STATE", "REQUESTED BY", "CREATED", "APPROVALS", "WHAT"], result.Items.Select(a => new[]
            {
                a.Id, a.Operation, a.State, a.RequestedBy, CliOutput.Time(a.Created), $"{a.Approvals}/{a.Required}", a.Description,
            }));
            return 0;
        }));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The request's id (apr_…)" };
        var json = RepoCommands.JsonOption();
        var command = new Command("show", "Show a request: the exact operation, its parameters and every decision") { id, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            WriteRequest(call, await call.Get<ShowApproval>().ExecuteAsync(new ShowApprovalRequest(parse.GetValue(id)!), ct));
            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }

    private static Command Decide(CliApp app, bool approve)
    {
        var id = new Argument<string>("ID") { Description = "The request's id (apr_…)" };
        var reason = new Option<string?>("--reason") { Description = "Why (kept in the audit trail)", HelpName = "R" };
        var json = RepoCommands.JsonOption();
        var command = new Command(approve ? "approve" : "deny", approve ? "Approve a request (you may not approve your own)" : "Deny a request (the requester may withdraw their own)") { id, reason, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var request = new DecideApprovalRequest(parse.GetValue(id)!, parse.GetValue(reason));
            var decide = call.Get<DecideApproval>();
            var result = approve ? await decide.ApproveAsync(request, ct) : await decide.DenyAsync(request, ct);
            WriteRequest(call, result);
            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }

    private static Command BreakGlass(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The pending request's id (apr_…)" };
        var reason = new Option<string?>("--reason") { Description = "Why the approvers are bypassed (required; sent to everyone)", HelpName = "R" };
        var json = RepoCommands.JsonOption();
        var command = new Command("break-glass", "Emergency: approve a pending request alone, from the host, with the repository key (--key-file or --passphrase-file); a critical event and an audit entry") { id, reason, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<BreakGlassApproval>().ExecuteAsync(new BreakGlassRequest(parse.GetValue(id)!, parse.GetValue(reason)), ct);
            WriteRequest(call, result);
            if (!call.Output.Json)
            {
                call.Output.Line("the glass is broken: a critical approval.break_glass event went out; the requester runs the operation again (within the execute window)");
            }

            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID", ["reason"] = "--reason" }));
        return command;
    }

    private static void WritePolicies(CliCall call, ApprovalPolicyList result)
    {
        if (call.Output.Json)
        {
            call.Output.WriteJson(result, LifeboatJson.Default.ApprovalPolicyList);
            return;
        }

        if (result.Items.Count == 0)
        {
            call.Output.Line("approvals are off: no policy (`lifeboat approvals policy set default --approvals 1 --role admin` turns them on)");
            return;
        }

        call.Output.Table(["OPERATION", "APPROVALS", "FROM", "APPROVE WITHIN", "EXECUTE WITHIN", "UPDATED BY"], result.Items.Select(p => new[]
        {
            p.Operation, p.Approvals.ToString(System.Globalization.CultureInfo.InvariantCulture), ApprovalRulesText(p), Core.Duration.ToConfig(p.ApproveWithin), Core.Duration.ToConfig(p.ExecuteWithin), p.Configured ? "configuration file" : p.UpdatedBy,
        }));
    }

    private static string ApprovalRulesText(ApprovalPolicyView p)
        => p.Role is null ? string.Join(", ", p.Users) : p.Users.Count == 0 ? "role " + p.Role : $"role {p.Role}, {string.Join(", ", p.Users)}";

    private static void WriteRequest(CliCall call, ApprovalView a)
    {
        if (call.Output.Json)
        {
            call.Output.WriteJson(a, LifeboatJson.Default.ApprovalView);
            return;
        }

        call.Output.Line($"{a.Id}: {a.Operation} — {a.Description}");
        call.Output.Line($"  state:        {a.State}{(a.Reason is null ? "" : " (" + a.Reason + ")")}");
        call.Output.Line($"  requested by: {a.RequestedBy} at {CliOutput.Time(a.Created)}");
        call.Output.Line($"  approvals:    {a.Approvals} of {a.Required} from {(a.Role is null ? "" : "the role " + a.Role)}{(a.Users is null ? "" : (a.Role is null ? "" : " or ") + a.Users)}");
        call.Output.Line(a.State == ApprovalStates.Approved && a.ExecuteBy is { } by
            ? $"  execute by:   {CliOutput.Time(by)} (the requester runs the same command again)"
            : $"  approve by:   {CliOutput.Time(a.ApproveBy)}");
        foreach (var (key, value) in a.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            call.Output.Line($"  {key}: {value}");
        }

        foreach (var d in a.Decisions)
        {
            call.Output.Line($"  {d.Decision} by {d.By}{(d.Role is null ? "" : " (" + d.Role + ")")} at {CliOutput.Time(d.Time)}{(d.Reason is null ? "" : ": " + d.Reason)}");
        }
    }
}
