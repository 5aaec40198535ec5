using System.CommandLine;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat demo</c>: the main job on an embedded default.</summary>
internal static class DemoCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's directories (and stop nothing) instead of removing them" };
        var files = new Option<bool>("--files") { Description = "Run the file-tree demo instead (no PostgreSQL needed)" };
        var command = new Command("demo", "A throwaway PostgreSQL cluster: back up, drop a table by accident, restore to the moment before, prove every row is back") { keep, files };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = parse.GetValue(files)
                ? await call.Get<FilesDemo>().RunAsync(parse.GetValue(keep), line => call.Output.Line(line), ct)
                : await call.Get<ClusterDemo>().RunAsync(parse.GetValue(keep), call.Workspace.Environment, line => call.Output.Line(line), ct);
            return result ? 0 : 1;
        }));
        yield return command;
    }
}
