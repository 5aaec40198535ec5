using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Maintenance;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat maintenance enter | leave | status</c>: maintenance mode of a source or of every source.</summary>
internal static class MaintenanceModeCommands
{
    public static Command Create(CliApp app)
    {
        var maintenance = new Command("maintenance", "Maintenance mode: pause the schedules of a source (or of every source) and refuse writes to it");
        maintenance.Subcommands.Add(Enter(app));
        maintenance.Subcommands.Add(Leave(app));
        maintenance.Subcommands.Add(Status(app));
        return maintenance;
    }

    private static Command Enter(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "The source to pause (default: every source)", HelpName = "S" };
        var reason = new Option<string?>("--reason") { Description = "Why: shown in refusals, status and events", HelpName = "R" };
        var duration = new Option<string?>("--duration") { Description = "End by itself after this long: 2h, 30m, 1d (default: until `maintenance leave`)", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        var command = new Command("enter", "Enter maintenance mode") { source, reason, duration, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var window = await call.Get<EnterMaintenance>().ExecuteAsync(new EnterMaintenanceRequest(parse.GetValue(source), parse.GetValue(reason), parse.GetValue(duration)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(window, LifeboatJson.Default.MaintenanceWindow);
            }
            else
            {
                call.Output.Line(Describe(window));
            }

            return 0;
        }));
        return command;
    }

    private static Command Leave(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "The source whose maintenance ends (default: the global one)", HelpName = "S" };
        var json = RepoCommands.JsonOption();
        var command = new Command("leave", "Leave maintenance mode now") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<LeaveMaintenance>().ExecuteAsync(new LeaveMaintenanceRequest(parse.GetValue(source)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.LeaveMaintenanceResult);
            }
            else
            {
                var scope = result.Source is null ? "every source" : $"source '{result.Source}'";
                call.Output.Line(result.Ended is null ? $"{scope} was not in maintenance" : $"{scope}: maintenance left");
            }

            return 0;
        }));
        return command;
    }

    private static Command Status(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("status", "Show the maintenance windows in force") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var list = await call.Get<GetMaintenance>().ExecuteAsync(new GetMaintenanceRequest(), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(list, LifeboatJson.Default.MaintenanceList);
                return 0;
            }

            if (list.Items.Count == 0)
            {
                call.Output.Line("no source is in maintenance");
                return 0;
            }

            call.Output.Table(["SOURCE", "REASON", "SINCE", "UNTIL", "BY"], list.Items.Select(w => new[]
            {
                w.Source ?? "(every source)", w.Reason ?? "", CliOutput.Time(w.Started), w.Ends is { } e ? CliOutput.Time(e) : "left by hand", w.StartedBy,
            }));
            return 0;
        }));
        return command;
    }

    private static string Describe(MaintenanceWindow w)
        => $"{(w.Source is null ? "every source" : $"source '{w.Source}'")} in maintenance" + (w.Reason is { Length: > 0 } r ? $" ({r})" : "")
           + (w.Ends is { } e ? " until " + CliOutput.Time(e) : " until `lifeboat maintenance leave`") + ": scheduled jobs are skipped, writes are refused";
}
