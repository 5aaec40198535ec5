using System.Text.Json;
using Lifeboat.Cli.Tests.Server;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests;

/// <summary>Approvals through the real command line and the real server: exit code 4, its JSON, HTTP 202, approve over the API.</summary>
public sealed class ApprovalCliTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_forget_under_a_policy_exits_4_until_another_person_approves_it_over_the_api_then_runs_once()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var backup = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        // The server's tokens (an admin's among them) exist before the policy: afterwards creating one would need approval.
        await using var server = await ServerFixture.StartAsync(f);
        using var http = server.Client(Roles.Admin);
        await f.Cli.OkAsync("approvals", "policy", "set", "backup.forget", "--approvals", "1", "--role", "admin");

        var asked = await f.Cli.RunAsync("forget", backup);
        Assert.True(asked.ExitCode == 4, asked.Error + asked.Out);
        var id = System.Text.RegularExpressions.Regex.Match(asked.Error, @"approval request (apr_[A-Za-z0-9_-]+)").Groups[1].Value;
        Assert.StartsWith("apr_", id, StringComparison.Ordinal);
        Assert.Contains($"lifeboat approvals approve {id}", asked.Error, StringComparison.Ordinal);

        // In JSON mode the error document holds the request (turning approvals off is itself under approval).
        var off = await f.Cli.RunAsync("approvals", "policy", "remove", "all", "--json");
        Assert.True(off.ExitCode == 4, off.Error + off.Out);
        var document = JsonDocument.Parse(off.Out).RootElement;
        var error = document.GetProperty("error");
        Assert.Equal("ApprovalRequired", error.GetProperty("code").GetString());
        Assert.Equal(4, error.GetProperty("exitCode").GetInt32());
        Assert.Equal("approvals.policy", document.GetProperty("approval").GetProperty("operation").GetString());
        Assert.Equal("pending", document.GetProperty("approval").GetProperty("state").GetString());
        var policies = JsonDocument.Parse((await f.Cli.OkAsync("approvals", "policy", "list", "--json")).Out).RootElement;
        Assert.True(policies.GetProperty("enabled").GetBoolean());
        Assert.Equal("backup.forget", Assert.Single(policies.GetProperty("items").EnumerateArray()).GetProperty("operation").GetString());
        Assert.Single(JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray());

        // The requester cannot approve their own request from the command line.
        var self = await f.Cli.RunAsync("approvals", "approve", id);
        Assert.Equal(2, self.ExitCode);
        Assert.Contains("the requester never counts", self.Error, StringComparison.Ordinal);

        // The same operation over the API is accepted, not done: 202, the request, its Location.
        using (var delete = await http.DeleteAsync(new Uri($"/api/v1/backups/{backup}", UriKind.Relative), Ct))
        {
            Assert.Equal(202, (int)delete.StatusCode);
            var problem = JsonDocument.Parse(await delete.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("ApprovalRequired", problem.GetProperty("code").GetString());
            var theirs = problem.GetProperty("approval").GetProperty("id").GetString();
            Assert.NotEqual(id, theirs);
            Assert.Equal($"/api/v1/approvals/{theirs}", delete.Headers.Location?.OriginalString);
        }

        Assert.Single(JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray());

        using (var approve = await http.PostAsync(new Uri($"/api/v1/approvals/{id}/approve", UriKind.Relative), JsonContent("""{"reason":"ticket 4711"}"""), Ct))
        {
            Assert.Equal(200, (int)approve.StatusCode);
            Assert.Equal("approved", JsonDocument.Parse(await approve.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("state").GetString());
        }

        // The requester runs the same command again: it runs, once.
        await f.Cli.OkAsync("forget", backup);
        Assert.Empty(JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray());
        var shown = JsonDocument.Parse((await f.Cli.OkAsync("approvals", "show", id, "--json")).Out).RootElement;
        Assert.Equal("executed", shown.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Break_glass_needs_a_reason_and_the_repository_key_in_hand_approves_alone_loudly_and_still_executes_once()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var backup = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        await f.Cli.OkAsync("approvals", "policy", "set", "backup.forget", "--approvals", "2", "--role", "admin");
        var asked = await f.Cli.RunAsync("forget", backup);
        Assert.True(asked.ExitCode == 4, asked.Error + asked.Out);
        var id = System.Text.RegularExpressions.Regex.Match(asked.Error, @"approval request (apr_[A-Za-z0-9_-]+)").Groups[1].Value;
        var key = f.Dir.Combine("passphrase.txt");
        File.WriteAllText(key, CliFixture.Passphrase);
        var wrong = f.Dir.Combine("wrong.txt");
        File.WriteAllText(wrong, "not-the-passphrase-at-all");

        // Each bypass of the bypass is refused, naming what is missing, and leaves the request pending.
        var noReason = await f.Cli.RunAsync("approvals", "break-glass", id, "--passphrase-file", key);
        Assert.True(noReason.ExitCode == 2, noReason.Error);
        Assert.Contains("--reason", noReason.Error, StringComparison.Ordinal);
        var noKey = await f.Cli.RunAsync("approvals", "break-glass", id, "--reason", "approvers unreachable");
        Assert.True(noKey.ExitCode == 2, noKey.Error);
        Assert.Contains("repository key in hand", noKey.Error, StringComparison.Ordinal);
        var wrongKey = await f.Cli.RunAsync("approvals", "break-glass", id, "--reason", "approvers unreachable", "--passphrase-file", wrong);
        Assert.True(wrongKey.ExitCode == 2, wrongKey.Error);
        Assert.Equal("pending", Show(await f.Cli.OkAsync("approvals", "show", id, "--json")).GetProperty("state").GetString());
        Assert.Single(JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray());

        // With the key and a reason: approved alone (the policy asks for two), with a critical event and an audit entry.
        var broke = await f.Cli.RunAsync("approvals", "break-glass", id, "--reason", "primary down, approvers unreachable, incident 4711", "--passphrase-file", key, "--json");
        Assert.True(broke.ExitCode == 0, broke.Error + broke.Out);
        var approved = Show(broke);
        Assert.Equal("approved", approved.GetProperty("state").GetString());
        var events = JsonDocument.Parse((await f.Cli.OkAsync("events", "list", "--type", "approval.break_glass", "--json")).Out).RootElement.GetProperty("items");
        var alert = Assert.Single(events.EnumerateArray());
        Assert.Equal("critical", alert.GetProperty("severity").GetString());
        Assert.Equal("primary down, approvers unreachable, incident 4711", alert.GetProperty("data").GetProperty("reason").GetString());
        Assert.StartsWith("break-glass:cli:", alert.GetProperty("data").GetProperty("by").GetString(), StringComparison.Ordinal);
        var audit = JsonDocument.Parse((await f.Cli.OkAsync("audit", "list", "--action", "approval.break_glass", "--json")).Out).RootElement.GetProperty("items");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("result").GetString() == "succeeded");
        Assert.Contains(audit.EnumerateArray(), a => a.GetProperty("result").GetString() == "denied");

        // The requester executes it, once; the glass cannot be broken twice for the same request.
        await f.Cli.OkAsync("forget", backup, "--approval", id);
        Assert.Empty(JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups").EnumerateArray());
        var again = await f.Cli.RunAsync("approvals", "break-glass", id, "--reason", "again", "--passphrase-file", key);
        Assert.True(again.ExitCode == 2, again.Error);
        Assert.Contains("only a pending request", again.Error, StringComparison.Ordinal);
    }

    private static JsonElement Show(CliResult result) => JsonDocument.Parse(result.Out).RootElement;

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
