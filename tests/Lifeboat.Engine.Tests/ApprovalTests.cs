using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Approvals;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.EventLog;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Schedules;
using Lifeboat.Engine.UseCases.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>
/// Approvals (issue 15, docs/approvals.md) through the use cases, as the CLI, the API and the scheduler call them: each
/// bypass attempt is named in its test and must fail with nothing done.
/// </summary>
public sealed class ApprovalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Actor Requester = Actor.Cli("ops");

    /// <summary>A use case of a new call made by <paramref name="actor"/>.</summary>
    private static T As<T>(EngineFixture f, Actor actor, TimeProvider? time = null)
        where T : notnull
    {
        var scope = f.Services(time: time).CreateScope();
        var call = scope.ServiceProvider.GetRequiredService<CallContext>();
        call.Workspace = f.Workspace();
        call.Actor = actor;
        return scope.ServiceProvider.GetRequiredService<T>();
    }

    private static async Task<T> AsWithApprovalAsync<T>(EngineFixture f, Actor actor, string approval, Func<T, Task> run)
        where T : notnull
    {
        var scope = f.Services().CreateScope();
        var call = scope.ServiceProvider.GetRequiredService<CallContext>();
        call.Workspace = f.Workspace();
        call.Actor = actor;
        call.ApprovalId = approval;
        var use = scope.ServiceProvider.GetRequiredService<T>();
        await run(use);
        return use;
    }

    /// <summary>An approver: a token created on the host (the CLI may create any), as the server's authentication makes its actor.</summary>
    private static async Task<Actor> ApproverAsync(EngineFixture f, string name, string role, string? tenant = null)
    {
        var token = await As<CreateToken>(f, Actor.Cli("root")).ExecuteAsync(new CreateTokenRequest(name, role, tenant), Ct);
        return new Actor("token", name, role, token.Id);
    }

    private static async Task<string> BackupAsync(EngineFixture f, string file, string text)
    {
        File.WriteAllText(Path.Combine(f.Source, file), text);
        return (await f.Use<BackupSource>().ExecuteAsync(new BackupSourceRequest("app"), Ct)).Id;
    }

    private static async Task<ApprovalView> RequestedAsync(Func<Task> operation)
    {
        var needs = await Assert.ThrowsAsync<ApprovalRequiredException>(operation);
        Assert.Equal(ErrorCode.ApprovalRequired, needs.Code);
        Assert.Equal(4, needs.ExitCode);
        Assert.Contains(needs.Request.Id, needs.Message, StringComparison.Ordinal);
        return needs.Request;
    }

    private static async Task<LifeboatException> RefusedAsync(Func<Task> attempt, string says)
    {
        var refused = await Assert.ThrowsAnyAsync<LifeboatException>(attempt);
        Assert.IsNotType<ApprovalRequiredException>(refused);
        Assert.Contains(says, refused.Message, StringComparison.Ordinal);
        return refused;
    }

    [Fact]
    public async Task Forget_under_a_policy_waits_for_another_person_counts_each_once_and_runs_once_exactly_as_approved()
    {
        using var f = new EngineFixture();
        var first = await BackupAsync(f, "a.txt", "one");
        var second = await BackupAsync(f, "b.txt", "two");
        var alice = await ApproverAsync(f, "alice", Roles.Admin);
        var bob = await ApproverAsync(f, "bob", Roles.Admin);
        await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Forget, 2, Roles.Admin), Ct);

        // The operation becomes a request; nothing is forgotten. Asking again is the same request, not a second one.
        var request = await RequestedAsync(() => As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([first]), Ct));
        Assert.Equal(ApprovalStates.Pending, request.State);
        Assert.Equal("cli:ops", request.RequestedBy);
        Assert.Equal(first, request.Parameters["backup"]);
        Assert.Equal(request.Id, (await RequestedAsync(() => As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([first]), Ct))).Id);
        Assert.Contains(first, (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Select(b => b.Id));

        // Bypass: the requester approves their own request.
        await RefusedAsync(() => As<DecideApproval>(f, Requester).ApproveAsync(new DecideApprovalRequest(request.Id), Ct), "cannot approve it: the requester never counts");

        // Bypass: one person approves twice (a second token with the same name is the same person).
        var alice2 = await ApproverAsync(f, "alice", Roles.Admin);
        Assert.Equal(ApprovalStates.Pending, (await As<DecideApproval>(f, alice).ApproveAsync(new DecideApprovalRequest(request.Id, "checked the ticket"), Ct)).State);
        await RefusedAsync(() => As<DecideApproval>(f, alice2).ApproveAsync(new DecideApprovalRequest(request.Id), Ct), "one person counts once");
        Assert.Equal(1, (await As<ShowApproval>(f, bob).ExecuteAsync(new ShowApprovalRequest(request.Id), Ct)).Approvals);

        // Bypass: a viewer (a role the policy does not admit) approves.
        var eve = await ApproverAsync(f, "eve", Roles.Viewer);
        await RefusedAsync(() => As<DecideApproval>(f, eve).ApproveAsync(new DecideApprovalRequest(request.Id), Ct), "may not decide on approval request");

        var approved = await As<DecideApproval>(f, bob).ApproveAsync(new DecideApprovalRequest(request.Id), Ct);
        Assert.Equal(ApprovalStates.Approved, approved.State);
        Assert.Equal(["alice", "bob"], approved.Decisions.Select(d => d.By));

        // Bypass: the approved request executes another operation (a changed parameter).
        await RefusedAsync(
            () => AsWithApprovalAsync<ForgetBackups>(f, Requester, request.Id, use => use.ExecuteAsync(new ForgetBackupsRequest([second]), Ct)),
            $"backup was '{first}', is '{second}'");
        Assert.Equal(2, (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Count);

        // Bypass: someone else executes the approved request.
        await RefusedAsync(() => AsWithApprovalAsync<ForgetBackups>(f, Actor.Cli("mallory"), request.Id, use => use.ExecuteAsync(new ForgetBackupsRequest([first]), Ct)), "only they execute it");

        // The requester runs the same command again: it runs, once.
        var forgotten = await As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([first]), Ct);
        Assert.Equal([first], forgotten.Forgotten);
        Assert.Equal([second], (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Select(b => b.Id));
        Assert.Equal(ApprovalStates.Executed, (await As<ShowApproval>(f, bob).ExecuteAsync(new ShowApprovalRequest(request.Id), Ct)).State);

        // The same forget again: its subject is gone, so nothing runs (the restore test below runs an executed approval again).
        await RefusedAsync(() => AsWithApprovalAsync<ForgetBackups>(f, Requester, request.Id, use => use.ExecuteAsync(new ForgetBackupsRequest([first]), Ct)), "there is no backup");

        // Every step is an event and in the audit trail.
        var events = (await f.Use<ListEvents>().ExecuteAsync(new ListEventsRequest(Type: "approval.*"), Ct)).Items.Select(e => e.Type).ToList();
        Assert.Contains("approval.requested", events);
        Assert.Contains("approval.granted", events);
        Assert.Contains("approval.executed", events);
        var audit = (await f.Use<UseCases.Audit.ListAudit>().ExecuteAsync(new UseCases.Audit.ListAuditRequest(), Ct)).Items.Select(a => (a.Action, a.Result)).ToList();
        Assert.Contains(("approval.request", "succeeded"), audit);
        Assert.Contains(("approval.approve", "succeeded"), audit);
        Assert.Contains(("approval.approve", "denied"), audit);
        Assert.Contains(("approval.execute", "denied"), audit);
        Assert.Contains(("approval.execute", "succeeded"), audit);
    }

    [Fact]
    public async Task Another_tenant_an_expired_request_and_a_role_downgraded_after_approving_are_refused()
    {
        using var f = new EngineFixture();
        var id = await BackupAsync(f, "a.txt", "one");
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var alice = await ApproverAsync(f, "alice", Roles.Admin);
        // A real second tenant: a superadmin belongs to the server's own tenant only, so the outsider is another tenant's admin.
        await As<Lifeboat.Engine.UseCases.Tenants.TenantAdmin>(f, Actor.Cli("root")).AddAsync(new Lifeboat.Engine.UseCases.Tenants.AddTenantRequest("other"), Ct);
        var outsider = await ApproverAsync(f, "olga", Roles.Admin, tenant: "other");
        await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Forget, 1, Roles.Admin, ApproveWithin: "1h", ExecuteWithin: "10m"), Ct);

        // Bypass: a superadmin of another tenant approves.
        var request = await RequestedAsync(() => As<ForgetBackups>(f, Requester, clock).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));
        await RefusedAsync(() => As<DecideApproval>(f, outsider, clock).ApproveAsync(new DecideApprovalRequest(request.Id), Ct), "the token of 'olga' is revoked or expired"); // another tenant's token is not found in this tenant's catalog at all

        // Bypass: approving after the window: the request expired and is never approved.
        clock.Advance(TimeSpan.FromHours(2));
        await RefusedAsync(() => As<DecideApproval>(f, alice, clock).ApproveAsync(new DecideApprovalRequest(request.Id), Ct), "is expired");
        Assert.Equal(ApprovalStates.Expired, (await As<ShowApproval>(f, alice, clock).ExecuteAsync(new ShowApprovalRequest(request.Id), Ct)).State);

        // A new request, approved by alice; then alice's admin token is revoked and re-issued as a viewer.
        var again = await RequestedAsync(() => As<ForgetBackups>(f, Requester, clock).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));
        Assert.NotEqual(request.Id, again.Id);
        Assert.Equal(ApprovalStates.Approved, (await As<DecideApproval>(f, alice, clock).ApproveAsync(new DecideApprovalRequest(again.Id), Ct)).State);
        await As<RevokeToken>(f, Actor.Cli("root")).ExecuteAsync(new RevokeTokenRequest(alice.TokenId!), Ct);
        var demoted = await ApproverAsync(f, "alice", Roles.Viewer);

        // Bypass: the approval of a role that was taken away still counting at execution.
        await RefusedAsync(() => As<ForgetBackups>(f, Requester, clock).ExecuteAsync(new ForgetBackupsRequest([id]), Ct), "approval(s) still count");
        Assert.Contains(id, (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Select(b => b.Id));

        // Bypass: the downgraded person approves the next request with the lesser role.
        var third = await RequestedAsync(() => As<ForgetBackups>(f, Requester, clock).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));
        await RefusedAsync(() => As<DecideApproval>(f, demoted, clock).ApproveAsync(new DecideApprovalRequest(third.Id), Ct), "(role viewer) may not decide");

        // Bypass: executing an approved request after its execution window.
        var bob = await ApproverAsync(f, "bob", Roles.Admin);
        await As<DecideApproval>(f, bob, clock).ApproveAsync(new DecideApprovalRequest(third.Id), Ct);
        clock.Advance(TimeSpan.FromMinutes(11));
        var late = await RequestedAsync(() => As<ForgetBackups>(f, Requester, clock).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));
        Assert.NotEqual(third.Id, late.Id);
        Assert.Equal(ApprovalStates.Expired, (await As<ShowApproval>(f, bob, clock).ExecuteAsync(new ShowApprovalRequest(third.Id), Ct)).State);
        Assert.Contains(id, (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Select(b => b.Id));
    }

    [Fact]
    public async Task Turning_approvals_off_or_weakening_a_policy_needs_approval_and_a_policy_change_voids_open_requests()
    {
        using var f = new EngineFixture();
        var id = await BackupAsync(f, "a.txt", "one");
        var alice = await ApproverAsync(f, "alice", Roles.Admin);
        var defaults = await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest("default", 1, Roles.Admin), Ct);
        Assert.True(defaults.Enabled);
        Assert.Equal(DestructiveOperations.Defaults.Order(StringComparer.Ordinal), defaults.Items.Select(p => p.Operation));

        // A new admin token is a second person: minting one alone is not allowed.
        await RequestedAsync(() => As<CreateToken>(f, Requester).ExecuteAsync(new CreateTokenRequest("sock-puppet", Roles.Admin), Ct));
        Assert.DoesNotContain("sock-puppet", (await f.Use<ListTokens>().ExecuteAsync(new ListTokensRequest(), Ct)).Items.Select(t => t.Name));
        Assert.NotNull(await As<CreateToken>(f, Requester).ExecuteAsync(new CreateTokenRequest("grafana", Roles.Viewer), Ct));

        var pending = await RequestedAsync(() => As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));

        // Bypass: switching approvals off alone; weakening a policy alone.
        var off = await RequestedAsync(() => As<RemoveApprovalPolicy>(f, Requester).ExecuteAsync(new RemoveApprovalPolicyRequest("all"), Ct));
        Assert.Equal(DestructiveOperations.ChangePolicy, off.Operation);
        await RequestedAsync(() => As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Forget, 1, Users: ["cli:ops2"]), Ct));
        Assert.Equal(DestructiveOperations.Defaults.Count, (await f.Use<ListApprovalPolicies>().ExecuteAsync(new ListApprovalPoliciesRequest(), Ct)).Items.Count);

        // Approved by another person, it runs, and it voids the requests made under the policies it removed.
        await As<DecideApproval>(f, alice).ApproveAsync(new DecideApprovalRequest(off.Id, "maintenance window"), Ct);
        var none = await As<RemoveApprovalPolicy>(f, Requester).ExecuteAsync(new RemoveApprovalPolicyRequest("all"), Ct);
        Assert.False(none.Enabled);
        var voided = await As<ShowApproval>(f, alice).ExecuteAsync(new ShowApprovalRequest(pending.Id), Ct);
        Assert.Equal(ApprovalStates.Voided, voided.State);
        await RefusedAsync(() => As<DecideApproval>(f, alice).ApproveAsync(new DecideApprovalRequest(pending.Id), Ct), "is voided");

        // With approvals off, the operation runs at once.
        Assert.Equal([id], (await As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([id]), Ct)).Forgotten);

        // Bad input names the field.
        var bad = await Assert.ThrowsAsync<LifeboatException>(() => As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest("drop.everything", 1, Roles.Admin), Ct));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("«operation» 'drop.everything'", bad.Message, StringComparison.Ordinal);
        var viewer = await Assert.ThrowsAsync<LifeboatException>(() => As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Forget, 1, Roles.Viewer), Ct));
        Assert.Contains("«role» 'viewer' cannot approve", viewer.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policies_in_lifeboat_json_apply_cannot_be_changed_through_the_api_and_an_edit_of_the_file_is_an_event()
    {
        using var f = new EngineFixture();
        var id = await BackupAsync(f, "a.txt", "one");
        var alice = await ApproverAsync(f, "alice", Roles.Admin);
        f.Config.Edit(root =>
        {
            root["Approvals"] = new JsonObject { ["Policies"] = new JsonObject { [DestructiveOperations.Forget] = new JsonObject { ["Approvals"] = 1, ["Role"] = Roles.Admin } } };
            root["Server"] = new JsonObject { ["PublicUrl"] = "https://lifeboat.example.com/" };
        });
        // A policy set through the API beside the file's: the file never touches it.
        await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Expire, 2, Roles.Operator), Ct);

        var pending = await RequestedAsync(() => As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([id]), Ct));
        var requested = (await f.Use<ListEvents>().ExecuteAsync(new ListEventsRequest(Type: "approval.requested"), Ct)).Items.Single();
        Assert.Equal($"https://lifeboat.example.com/approvals/{pending.Id}", requested.Data.GetProperty("link").GetString());
        var listed = (await f.Use<ListApprovalPolicies>().ExecuteAsync(new ListApprovalPoliciesRequest(), Ct)).Items.ToDictionary(p => p.Operation);
        Assert.True(listed[DestructiveOperations.Forget].Configured);
        Assert.False(listed[DestructiveOperations.Expire].Configured);

        // Bypass: one admin removing, weakening or switching off the file's policy through the API.
        await RefusedAsync(() => As<RemoveApprovalPolicy>(f, Requester).ExecuteAsync(new RemoveApprovalPolicyRequest(DestructiveOperations.Forget), Ct), "it is set in");
        await RefusedAsync(() => As<RemoveApprovalPolicy>(f, Requester).ExecuteAsync(new RemoveApprovalPolicyRequest("all"), Ct), "it is set in");
        await RefusedAsync(() => As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Forget, 1, Users: ["cli:ops2"]), Ct), "it is set in");
        await RefusedAsync(() => As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest("default", 1, Roles.Admin), Ct), DestructiveOperations.Forget);
        Assert.Equal(ApprovalStates.Pending, (await As<ShowApproval>(f, alice).ExecuteAsync(new ShowApprovalRequest(pending.Id), Ct)).State);

        // The file changes: the next check applies it, the request made under the old policy is void, an event says so.
        f.Config.Edit(root => root["Approvals"]!["Policies"]![DestructiveOperations.Forget]!["Approvals"] = 2);
        Assert.Equal(2, (await f.Use<ListApprovalPolicies>().ExecuteAsync(new ListApprovalPoliciesRequest(), Ct)).Items.Single(p => p.Operation == DestructiveOperations.Forget).Approvals);
        Assert.Equal(ApprovalStates.Voided, (await As<ShowApproval>(f, alice).ExecuteAsync(new ShowApprovalRequest(pending.Id), Ct)).State);
        var changed = (await f.Use<ListEvents>().ExecuteAsync(new ListEventsRequest(Type: "approval_policy.*"), Ct)).Items;
        Assert.Contains(changed, e => e.Type == "approval_policy.changed" && e.Data.GetProperty("detail").GetString()!.Contains("2 approval(s)", StringComparison.Ordinal));

        // Taken out of the file (host access, the break-glass path): removed loudly, the API's policy stays.
        f.Config.Edit(root => root.Remove("Approvals"));
        Assert.Equal([id], (await As<ForgetBackups>(f, Requester).ExecuteAsync(new ForgetBackupsRequest([id]), Ct)).Forgotten);
        var removed = (await f.Use<ListEvents>().ExecuteAsync(new ListEventsRequest(Type: "approval_policy.removed"), Ct)).Items.Single();
        Assert.Equal("warning", removed.Severity);
        Assert.Equal([DestructiveOperations.Expire], (await f.Use<ListApprovalPolicies>().ExecuteAsync(new ListApprovalPoliciesRequest(), Ct)).Items.Select(p => p.Operation));

        // A bad policy in the file is a configuration error naming the setting.
        f.Config.Edit(root => root["Approvals"] = new JsonObject { ["Policies"] = new JsonObject { [DestructiveOperations.Forget] = new JsonObject { ["Role"] = Roles.Viewer } } });
        var bad = Assert.Throws<LifeboatException>(() => f.Workspace().Options);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("Approvals:Policies:backup.forget:Role = 'viewer'", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_approved_restore_over_a_directory_really_restores_and_a_changed_source_voids_its_request()
    {
        using var f = new EngineFixture();
        var id = await BackupAsync(f, "data.txt", "the good data");
        var alice = await ApproverAsync(f, "alice", Roles.Operator);
        await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.RestoreOverwrite, 1, Roles.Operator), Ct);
        var target = f.Dir.Combine("live");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "data.txt"), "ransomware was here");
        var restore = new RestoreSourceRequest { Source = "app", Backup = id, To = target, Overwrite = true };

        var request = await RequestedAsync(() => As<RestoreSource>(f, Requester).ExecuteAsync(restore, Ct));
        Assert.Equal("ransomware was here", File.ReadAllText(Path.Combine(target, "data.txt")));
        await As<DecideApproval>(f, alice).ApproveAsync(new DecideApprovalRequest(request.Id), Ct);
        await As<RestoreSource>(f, Requester).ExecuteAsync(restore, Ct);
        Assert.Equal("the good data", File.ReadAllText(Path.Combine(target, "data.txt")));

        // Bypass: the executed approval used a second time (the ransomware writes again, the attacker replays the restore).
        File.WriteAllText(Path.Combine(target, "data.txt"), "written again");
        await RefusedAsync(() => AsWithApprovalAsync<RestoreSource>(f, Requester, request.Id, use => use.ExecuteAsync(restore, Ct)), "is executed");
        Assert.Equal("written again", File.ReadAllText(Path.Combine(target, "data.txt")));

        // A pending request about a source whose configuration then changes is void.
        var next = await RequestedAsync(() => As<RestoreSource>(f, Requester).ExecuteAsync(restore, Ct));
        f.Config.Edit(root => root["Sources"]!["app"]!.AsObject()["Exclude"] = new JsonArray("*.tmp"));
        await RefusedAsync(() => As<DecideApproval>(f, alice).ApproveAsync(new DecideApprovalRequest(next.Id), Ct), "configuration of the source 'app' changed");
    }

    [Fact]
    public async Task A_scheduled_expire_under_a_policy_waits_for_approval_instead_of_running_and_runs_once_approved()
    {
        using var f = new EngineFixture();
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-20T02:00:00Z", CultureInfo.InvariantCulture));
        for (var day = 0; day < 3; day++)
        {
            File.WriteAllText(Path.Combine(f.Source, $"day{day}.txt"), new string('x', 1000 * (day + 1)));
            await f.Use<BackupSource>(time: clock).ExecuteAsync(new BackupSourceRequest("app"), Ct);
            clock.Advance(TimeSpan.FromHours(1));
        }

        f.Config.Edit(root =>
        {
            root["Sources"]!["app"]!.AsObject()["Retention"] = new JsonObject { ["KeepLast"] = 1 };
            root["Schedules"] = new JsonObject { ["nightly-expire"] = new JsonObject { ["Kind"] = "expire", ["Source"] = "app", ["Cron"] = "0 3 * * *" } };
        });
        var alice = await ApproverAsync(f, "alice", Roles.Admin);
        await As<SetApprovalPolicy>(f, Requester).ExecuteAsync(new SetApprovalPolicyRequest(DestructiveOperations.Expire, 1, Roles.Admin), Ct);

        var scheduler = Actor.Scheduler("nightly-expire");
        var waiting = await As<RunSchedule>(f, scheduler, clock).ExecuteAsync(new RunScheduleRequest("nightly-expire", TimeSpan.FromMilliseconds(1)), Ct);
        Assert.False(waiting.Succeeded);
        Assert.Equal(1, waiting.Attempts);
        Assert.StartsWith("awaiting approval apr_", waiting.Summary, StringComparison.Ordinal);
        Assert.Equal(3, (await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups.Count);
        var request = Assert.Single((await As<ListApprovals>(f, alice, clock).ExecuteAsync(new ListApprovalsRequest(ApprovalStates.Pending), Ct)).Items);
        Assert.Equal("scheduler:nightly-expire", request.RequestedBy);

        await As<DecideApproval>(f, alice, clock).ApproveAsync(new DecideApprovalRequest(request.Id), Ct);
        var ran = await As<RunSchedule>(f, scheduler, clock).ExecuteAsync(new RunScheduleRequest("nightly-expire", TimeSpan.FromMilliseconds(1)), Ct);
        Assert.True(ran.Succeeded, ran.Error);
        Assert.Single((await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups);
    }
}
