using System.Text.Json;

namespace Lifeboat.Cli.Tests;

/// <summary>`lifeboat token create | list | revoke` and `lifeboat audit list`, in-process on a fresh configuration.</summary>
public sealed class TokenCliTests
{
    [Fact]
    public async Task A_token_is_printed_once_listed_without_its_secret_revoked_and_both_changes_are_in_the_audit_trail()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);

        var create = await f.Cli.OkAsync("token", "create", "--name", "ci", "--role", "operator", "--expires", "90d", "--json");
        var created = JsonDocument.Parse(create.Out).RootElement;
        var id = created.GetProperty("id").GetString()!;
        var token = created.GetProperty("token").GetString()!;
        Assert.StartsWith("tok_", id, StringComparison.Ordinal);
        Assert.StartsWith("lbt_", token, StringComparison.Ordinal);
        Assert.Equal("ci", created.GetProperty("name").GetString());
        Assert.Equal("operator", created.GetProperty("role").GetString());
        Assert.Equal("default", created.GetProperty("tenant").GetString());
        Assert.True(created.TryGetProperty("expires", out _));
        Assert.Contains("only time it is shown", create.Error, StringComparison.Ordinal);

        // Text mode: the token alone on its stdout line, the note on stderr.
        var text = await f.Cli.OkAsync("token", "create", "--name", "grafana", "--role", "viewer");
        var line = Assert.Single(text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches("^lbt_[A-Za-z0-9_-]{43}$", line);
        Assert.DoesNotContain("lbt_", text.Error, StringComparison.Ordinal);

        var list = await f.Cli.OkAsync("token", "list", "--json");
        Assert.DoesNotContain(token, list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(line, list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("hash", list.Out, StringComparison.OrdinalIgnoreCase);
        var items = JsonDocument.Parse(list.Out).RootElement.GetProperty("items");
        Assert.Equal(["ci", "grafana"], items.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(id, items[0].GetProperty("id").GetString());
        Assert.False(items[0].TryGetProperty("token", out _));

        var revoke = await f.Cli.OkAsync("token", "revoke", id);
        Assert.Contains($"revoked token {id}", revoke.Out, StringComparison.Ordinal);
        var active = JsonDocument.Parse((await f.Cli.OkAsync("token", "list", "--json")).Out).RootElement.GetProperty("items");
        Assert.Equal(["grafana"], active.EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        var all = JsonDocument.Parse((await f.Cli.OkAsync("token", "list", "--all", "--json")).Out).RootElement.GetProperty("items");
        Assert.True(all[0].TryGetProperty("revoked", out _));
        Assert.Contains("revoked", (await f.Cli.OkAsync("token", "list", "--all")).Out, StringComparison.Ordinal);

        var audit = await f.Cli.OkAsync("audit", "list", "--json");
        Assert.DoesNotContain(token, audit.Out, StringComparison.Ordinal);
        var entries = JsonDocument.Parse(audit.Out).RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["token.revoke", "token.create", "token.create"], entries.Select(e => e.GetProperty("action").GetString()));
        Assert.All(entries, e => Assert.Equal("cli", e.GetProperty("actor").GetProperty("kind").GetString()));
        Assert.Equal(id, entries[0].GetProperty("target").GetString());
        Assert.Equal(id, entries[2].GetProperty("target").GetString());
        Assert.Equal("operator", entries[2].GetProperty("parameters").GetProperty("role").GetString());
        Assert.Single(JsonDocument.Parse((await f.Cli.OkAsync("audit", "list", "--action", "token.revoke", "--json")).Out).RootElement.GetProperty("items").EnumerateArray());
        Assert.Contains("token.create", (await f.Cli.OkAsync("audit", "list", "--since", "1h")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_token_and_audit_input_exits_2_naming_the_flag_and_an_unknown_id_exits_1()
    {
        using var f = new CliFixture(withTree: false);
        await f.Cli.OkAsync("repo", "init", "--repo", f.RepoUrl);
        var role = await f.Cli.RunAsync("token", "create", "--name", "x", "--role", "owner");
        Assert.Equal(2, role.ExitCode);
        Assert.Contains("--role 'owner' is not a role", role.Error, StringComparison.Ordinal);
        Assert.Contains("superadmin, admin, operator, auditor, viewer", role.Error, StringComparison.Ordinal);
        var expires = await f.Cli.RunAsync("token", "create", "--name", "x", "--role", "viewer", "--expires", "soon");
        Assert.Equal(2, expires.ExitCode);
        Assert.Contains("--expires 'soon' is not a duration", expires.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await f.Cli.RunAsync("audit", "list", "--since", "yesterday")).ExitCode);
        var unknown = await f.Cli.RunAsync("token", "revoke", "tok_0123456789abcdef");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("ID 'tok_0123456789abcdef'", unknown.Error, StringComparison.Ordinal);
        Assert.Empty(JsonDocument.Parse((await f.Cli.OkAsync("audit", "list", "--json")).Out).RootElement.GetProperty("items").EnumerateArray());
    }
}
