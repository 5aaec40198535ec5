using System.Text.Json;
using System.Text.RegularExpressions;
using Lifeboat.Engine.Application;
using Microsoft.Playwright;

namespace Lifeboat.Cli.Tests.Server.Dashboard;

/// <summary>The approvals pages in a real chromium: the gate's rules decide who sees the buttons and whose POST counts.</summary>
[Collection(DashboardCollection.Name)]
public sealed partial class ApprovalsPageTests
{
    private const string Reason = "<script>alert(1)</script> ticket 4711";

    [Fact]
    public async Task An_admin_approves_and_denies_with_a_reason_a_viewer_sees_no_button_and_is_refused_and_a_form_without_its_csrf_token_changes_nothing()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var backup = JsonDocument.Parse((await cli.Cli.OkAsync("backup", "--source", "app", "--json")).Out).RootElement.GetProperty("id").GetString()!;
        // The server's tokens exist before the policy (afterwards, creating one would need approval).
        await using var server = await ServerFixture.StartAsync(cli);
        await cli.Cli.OkAsync("approvals", "policy", "set", "backup.forget", "--approvals", "1", "--role", "admin");
        var forget = RequestId(await cli.Cli.RunAsync("forget", backup));
        var off = RequestId(await cli.Cli.RunAsync("approvals", "policy", "remove", "all"));
        await using var browser = await DashboardBrowser.StartAsync(server);

        var viewer = await browser.SignedInAsync(Roles.Viewer);
        await viewer.GetByRole(AriaRole.Link, new() { Name = "Approvals", Exact = true }).ClickAsync();
        Assert.Equal("pending", await viewer.Locator($"tr[data-approval='{forget}'] .approval-state").InnerTextAsync());
        Assert.Equal("pending", await viewer.Locator($"tr[data-approval='{off}'] .approval-state").InnerTextAsync());
        await viewer.GetByRole(AriaRole.Link, new() { Name = forget }).ClickAsync();
        Assert.Equal(0, await viewer.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
        Assert.Equal(0, await viewer.GetByRole(AriaRole.Button, new() { Name = "Deny" }).CountAsync());
        Assert.Equal("You may not decide on this request: it needs the role admin.", await viewer.Locator("#no-decision").InnerTextAsync());
        // Even with a valid anti-forgery token of its own (from the sign-out form), a viewer's POST is refused.
        var viewerCsrf = await viewer.Locator("header input[name=csrf]").GetAttributeAsync("value");
        var refused = await viewer.APIRequest.PostAsync($"/approvals/{forget}/approve", new() { Form = viewer.APIRequest.CreateFormData().Set("csrf", viewerCsrf!).Set("reason", "me"), MaxRedirects = 0 });
        Assert.Equal(403, refused.Status);
        Assert.Contains("You may not approve approval request", await refused.TextAsync(), StringComparison.Ordinal);

        var admin = await browser.SignedInAsync(Roles.Admin);
        await admin.GotoAsync($"/approvals/{forget}");
        // Without the form's anti-forgery token: refused, and nothing changes.
        var forged = await admin.APIRequest.PostAsync($"/approvals/{forget}/approve", new() { Form = admin.APIRequest.CreateFormData().Set("reason", "forged"), MaxRedirects = 0 });
        Assert.Equal(400, forged.Status);
        Assert.Equal("pending", (await browser.ApiAsync(Roles.Viewer, $"/api/v1/approvals/{forget}")).GetProperty("state").GetString());

        await admin.GetByLabel("Reason").FillAsync(Reason);
        await admin.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        await admin.WaitForURLAsync($"**/approvals/{forget}");
        Assert.Equal("approved", await admin.Locator("#approval-state").InnerTextAsync());
        Assert.Equal(Reason, await admin.Locator("#decisions .reason").InnerTextAsync());
        Assert.Equal(0, await admin.Locator("#decisions script").CountAsync());
        var approved = await browser.ApiAsync(Roles.Viewer, $"/api/v1/approvals/{forget}");
        Assert.Equal("approved", approved.GetProperty("state").GetString());
        var decision = Assert.Single(approved.GetProperty("decisions").EnumerateArray());
        Assert.Equal(("admin-token", "approve", Reason), (decision.GetProperty("by").GetString(), decision.GetProperty("decision").GetString(), decision.GetProperty("reason").GetString()));

        await admin.GotoAsync($"/approvals/{off}");
        await admin.GetByLabel("Reason").FillAsync("keep approvals on");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
        await admin.WaitForURLAsync($"**/approvals/{off}");
        Assert.StartsWith("denied", await admin.Locator("#approval-state").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("denied", (await browser.ApiAsync(Roles.Viewer, $"/api/v1/approvals/{off}")).GetProperty("state").GetString());
        // A decided request takes no more decisions: no buttons, and the pending list no longer has either.
        Assert.Equal(0, await admin.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
        await admin.GotoAsync("/approvals");
        Assert.Equal("No request.", await admin.Locator("#no-approvals").InnerTextAsync());
        browser.AssertClean();
    }

    private static string RequestId(CliResult asked)
    {
        Assert.True(asked.ExitCode == 4, asked.Error + asked.Out);
        return ApprovalId().Match(asked.Error).Groups[1].Value;
    }

    [GeneratedRegex(@"approval request (apr_[A-Za-z0-9_-]+)")]
    private static partial Regex ApprovalId();
}
