using System.CommandLine;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.UseCases.Drills;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat drill</c>: restore into a scratch copy, check it, measure RTO and RPO, keep the evidence.</summary>
internal static class DrillCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var source = new Option<string>("--source") { Description = "The source to drill", Required = true, HelpName = "NAME" };
        var backup = new Option<string?>("--backup") { Description = "Drill this backup (a cluster: recovered to the point of its row counts)", HelpName = "ID" };
        var targetTime = new Option<string?>("--target-time") { Description = "Recover to this time (2026-11-22T14:03:00+00:00)", HelpName = "TIME" };
        var random = new Option<bool>("--random-point") { Description = "Recover to a random time inside the recoverable window (files: a random backup)" };
        var timeout = new Option<string?>("--timeout") { Description = "Fail and clean up after this long (default Drill:Timeout, 30 minutes): 00:30:00, 90s, 45m, 2h", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        var command = new Command("drill", "Prove a backup restores: restore it into a scratch copy, check it, measure RTO and RPO, and keep the evidence")
        {
            source, backup, targetTime, random, timeout, json,
        };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var request = new RunDrillRequest(
                parse.GetValue(source)!,
                parse.GetValue(backup),
                parse.GetValue(targetTime),
                parse.GetValue(random),
                parse.GetValue(timeout),
                LowerProcessPriority: call.OwnsProcess);
            DrillDocument report;
            using (call.ShowProgress("drill"))
            {
                report = await call.Get<RunDrill>().ExecuteAsync(request, ct);
            }

            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.DrillDocument);
                return report.ExitCode;
            }

            foreach (var check in report.Checks)
            {
                var mark = check.Status switch { DrillCheckStatus.Passed => "ok  ", DrillCheckStatus.Failed => "FAIL", DrillCheckStatus.Skipped => "skip", _ => "info" };
                output.Note($"  {mark} {check.Name}: {check.Detail.Split('\n')[0]}");
            }

            foreach (var note in report.Notes)
            {
                output.Note("  note " + note);
            }

            output.Line(report.Summary);
            return report.ExitCode;
        }));
        yield return command;
    }
}
