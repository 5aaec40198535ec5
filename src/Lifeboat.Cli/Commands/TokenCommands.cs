using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Tokens;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat token create | list | revoke</c>: the server's API tokens.</summary>
internal static class TokenCommands
{
    public static Command Create(CliApp app)
    {
        var token = new Command("token", "API tokens of the server (shown once, stored only as a hash)");
        token.Subcommands.Add(CreateCommand(app));
        token.Subcommands.Add(List(app));
        token.Subcommands.Add(Revoke(app));
        return token;
    }

    private static Command CreateCommand(CliApp app)
    {
        var name = new Option<string>("--name") { Description = "Who or what uses the token (ci, grafana, alice)", Required = true, HelpName = "NAME" };
        var role = new Option<string>("--role") { Description = "The token's role: " + string.Join(", ", Roles.All), Required = true, HelpName = "ROLE" };
        var expires = new Option<string?>("--expires") { Description = "How long it lives: 90d, 12h, 2w (default: until revoked)", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        // The tenant it acts in is the command's (--tenant, $LIFEBOAT_TENANT): the workspace the command runs in.
        var command = new Command("create", "Create a token and print it, this once") { name, role, expires, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var created = await call.Get<CreateToken>().ExecuteAsync(new CreateTokenRequest(parse.GetValue(name)!, parse.GetValue(role)!, null, parse.GetValue(expires)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(created, LifeboatJson.Default.CreatedToken);
            }
            else
            {
                call.Output.Line(created.Token);
            }

            call.Output.Note($"token {created.Id} '{created.Name}' ({created.Role}, tenant {created.Tenant}, {(created.Expires is { } e ? "expires " + CliOutput.Time(e) : "no expiry")}): " +
                             "this is the only time it is shown; keep it in a secret store");
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var all = new Option<bool>("--all") { Description = "Revoked tokens too" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the tokens of the command's tenant (never their secrets)") { all, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListTokens>().ExecuteAsync(new ListTokensRequest(parse.GetValue(all)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ListTokensResult);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no tokens; create one with `lifeboat token create --name NAME --role ROLE`");
                return 0;
            }

            var now = call.Time.GetUtcNow();
            call.Output.Table(["ID", "NAME", "ROLE", "TENANT", "CREATED", "EXPIRES", "LAST USED", "STATE"], result.Items.Select(t => new[]
            {
                t.Id, t.Name, t.Role, t.Tenant, CliOutput.Time(t.Created),
                t.Expires is { } e ? CliOutput.Time(e) : "never",
                t.LastUsed is { } u ? CliOutput.Time(u) : "never",
                t.Revoked is { } r ? "revoked " + CliOutput.Time(r) : t.Active(now) ? "active" : "expired",
            }));
            return 0;
        }));
        return command;
    }

    private static Command Revoke(CliApp app)
    {
        var id = new Argument<string>("ID") { Description = "The token's id (tok_…)" };
        var json = RepoCommands.JsonOption();
        var command = new Command("revoke", "Revoke a token: it stops working at once") { id, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var revoked = await call.Get<RevokeToken>().ExecuteAsync(new RevokeTokenRequest(parse.GetValue(id)!), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(revoked, LifeboatJson.Default.TokenView);
            }
            else
            {
                call.Output.Line($"revoked token {revoked.Id} '{revoked.Name}' at {CliOutput.Time(revoked.Revoked!.Value)}");
            }

            return 0;
        }, new Dictionary<string, string> { ["id"] = "ID" }));
        return command;
    }
}
