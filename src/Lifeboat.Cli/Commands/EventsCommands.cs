using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat events list</c>: the event log, newest first (docs/events.md).</summary>
internal static class EventsCommands
{
    public static Command Create(CliApp app)
    {
        var events = new Command("events", "The event log: everything that happened, as webhooks and alerts receive it");
        events.Subcommands.Add(List(app));
        events.Subcommands.Add(Generate(app));
        return events;
    }

    private static Command List(CliApp app)
    {
        var type = new Option<string?>("--type") { Description = "Event types or patterns, comma-separated (backup.failed, drill.*)", HelpName = "T" };
        var source = new Option<string?>("--source") { Description = "Only events about this source", HelpName = "S" };
        var severity = new Option<string?>("--severity") { Description = "This severity and worse: info, warning, error, critical", HelpName = "S" };
        var since = new Option<string?>("--since") { Description = "Events at or after this time, or this long ago (24h, 7d)", HelpName = "TIME" };
        var until = new Option<string?>("--until") { Description = "Events before this time, or this long ago", HelpName = "TIME" };
        var correlation = new Option<string?>("--correlation") { Description = "Only the events of one call or run (its correlation id)", HelpName = "ID" };
        var limit = new Option<int>("--limit") { Description = "At most this many events (1-1000)", DefaultValueFactory = _ => 100, HelpName = "N" };
        var cursor = new Option<string?>("--cursor") { Description = "The next page: the `next` of a previous --json answer", HelpName = "CURSOR" };
        var json = RepoCommands.JsonOption();
        var list = new Command("list", "List events, newest first") { type, source, severity, since, until, correlation, limit, cursor, json };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListEvents>().ExecuteAsync(new ListEventsRequest(
                parse.GetValue(type), parse.GetValue(source), parse.GetValue(severity), parse.GetValue(since), parse.GetValue(until), parse.GetValue(correlation), parse.GetValue(limit), parse.GetValue(cursor)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.PageEventView);
                return 0;
            }

            if (result.Items.Count == 0)
            {
                call.Output.Line("no events match");
                return 0;
            }

            call.Output.Table(["TIME", "TYPE", "SEVERITY", "SOURCE", "CORRELATION", "DATA"], result.Items.Select(e => new[]
            {
                CliOutput.Time(e.Time), e.Type, e.Severity, e.Source ?? "", e.CorrelationId, Shorten(e.Data.GetRawText(), 80),
            }));
            if (result.Next is { } next)
            {
                call.Output.Note($"more events: --cursor {next}");
            }

            return 0;
        }));
        return list;
    }

    private static Command Generate(CliApp app)
    {
        var count = new Option<int>("--count") { Description = "How many test.generated events", Required = true, HelpName = "N" };
        var perMinute = new Option<int?>("--per-minute") { Description = "At this rate (default: as fast as the catalog takes them)", HelpName = "RATE" };
        var json = RepoCommands.JsonOption();
        var command = new Command("generate", "Publish test.generated events to exercise delivery (a webhook of test.* receives them)") { count, perMinute, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<GenerateEvents>().ExecuteAsync(new GenerateEventsRequest(parse.GetValue(count), parse.GetValue(perMinute)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.GenerateEventsResult);
            }
            else
            {
                call.Output.Line($"{result.Count} test.generated event(s) of batch {result.Batch} in {result.Seconds:0.0} s");
            }

            return 0;
        }));
        return command;
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
