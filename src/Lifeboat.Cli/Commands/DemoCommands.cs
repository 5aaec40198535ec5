using System.CommandLine;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat demo</c>: the main job on an embedded default.</summary>
internal static class DemoCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var keep = new Option<bool>("--keep") { Description = "Keep the demo's directories instead of removing them" };
        var command = new Command("demo", "Back up a sample file tree, restore it elsewhere and prove it identical") { keep };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var result = await FilesDemo.RunAsync(context.Time, parse.GetValue(keep), line => output.Line(line), ct);
            return result ? 0 : 1;
        }));
        yield return command;
    }
}
