using System.CommandLine;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Runbooks;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat runbook [--source NAME | --stack NAME] [--format md|html] [--output FILE] [--json]</c>.</summary>
internal static class RunbookCommands
{
    public static Command Create(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only the scenarios of this source", HelpName = "NAME" };
        var stack = new Option<string?>("--stack") { Description = "Only the scenarios of this stack's sources, with the stack's own restore", HelpName = "NAME" };
        var format = new Option<string>("--format") { Description = "Markdown or a self-contained HTML page", DefaultValueFactory = _ => "md", HelpName = "md|html" };
        format.AcceptOnlyFromAmong("md", "html");
        var output = new Option<string?>("--output") { Description = "Write the runbook to this file instead of stdout", HelpName = "FILE" };
        var json = RepoCommands.JsonOption();
        var command = new Command("runbook", "Write the recovery runbook of this installation: per scenario the exact commands, the recoverable window, the last proven drill and its RTO, where the keys are")
        {
            source, stack, format, output, json,
        };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var runbook = await call.Get<GetRunbook>().ExecuteAsync(new GetRunbookRequest(parse.GetValue(source), parse.GetValue(stack), parse.GetValue(format)!), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(runbook, LifeboatJson.Default.Runbook);
            }
            else if (parse.GetValue(output) is { } file)
            {
                var path = Path.GetFullPath(file, app.Environment.WorkingDirectory);
                await File.WriteAllTextAsync(path, runbook.Content, ct);
                call.Output.Line($"wrote the runbook ({runbook.Scenarios.Count} scenarios, {runbook.Warnings.Count} warnings) to {path}");
            }
            else
            {
                await call.Output.Out.WriteAsync(runbook.Content);
            }

            foreach (var warning in runbook.Warnings)
            {
                call.Output.Error.WriteLine("warning: " + warning);
            }

            return 0;
        }));
        return command;
    }
}
