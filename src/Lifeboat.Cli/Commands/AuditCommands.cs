using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Audit;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat audit list</c>: the audit trail, newest first.</summary>
internal static class AuditCommands
{
    public static Command Create(CliApp app)
    {
        var since = new Option<string?>("--since") { Description = "Entries at or after this time, or this long ago (24h, 7d)", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Entries before this time, or this long ago", HelpName = "TIME" };
        var actor = new Option<string?>("--actor") { Description = "Only this actor (a user, a token's name, a schedule)", HelpName = "NAME" };
        var action = new Option<string?>("--action") { Description = "Only this action (token.create, token.revoke, …)", HelpName = "ACTION" };
        var limit = new Option<int>("--limit") { Description = "At most this many entries (1-1000)", DefaultValueFactory = _ => 100, HelpName = "N" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the `next` of a previous --json answer", HelpName = "CURSOR" };
        var json = RepoCommands.JsonOption();
        var list = new Command("list", "List the audit trail, newest first") { since, until, actor, action, limit, cursor, json };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListAudit>().ExecuteAsync(new ListAuditRequest(parse.GetValue(since), parse.GetValue(until), parse.GetValue(actor), parse.GetValue(action), parse.GetValue(limit), parse.GetValue(cursor)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ListAuditResult);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no audit entries match");
                return 0;
            }

            call.Output.Table(["TIME", "ACTOR", "ROLE", "ACTION", "TARGET", "RESULT", "STATUS", "PARAMETERS"], result.Items.Select(e => new[]
            {
                CliOutput.Time(e.Time), $"{e.Actor.Kind}:{e.Actor.Name}", e.Actor.Role ?? "", e.Action, e.Target ?? "", e.Result, e.Status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.Parameters is null ? "" : string.Join(' ', e.Parameters.Select(p => $"{p.Key}={p.Value}")),
            }));
            if (result.Next is { } next)
            {
                call.Output.Note($"more entries: --cursor {next}");
            }

            return 0;
        }));
        var audit = new Command("audit", "The audit trail: who did what, when, and how it ended");
        audit.Subcommands.Add(list);
        return audit;
    }
}
