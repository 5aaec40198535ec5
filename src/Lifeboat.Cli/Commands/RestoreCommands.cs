using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Operations;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat restore</c>.</summary>
internal static class RestoreCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var source = new Option<string>("--source") { Description = "The source whose backup to restore", Required = true, HelpName = "NAME" };
        var to = new Option<string?>("--to") { Description = "Restore into this new or empty directory", HelpName = "DIR" };
        var backup = new Option<string?>("--backup") { Description = "The backup to restore (default: the latest of the source)", HelpName = "ID" };
        var path = new Option<string[]>("--path") { Description = "Restore only paths matching this glob (repeatable)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = false };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace existing files: restore into a non-empty --to, or, without --to, over the original place" };
        var json = RepoCommands.JsonOption();
        var command = new Command("restore", "Restore a backup") { source, to, backup, path, overwrite, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            using var bar = output.Progress("restore");
            var outcome = await RestoreService.RunAsync(
                context,
                new RestoreRequest
                {
                    SourceName = parse.GetValue(source)!,
                    BackupId = parse.GetValue(backup),
                    Destination = parse.GetValue(to),
                    Paths = parse.GetValue(path) ?? [],
                    Overwrite = parse.GetValue(overwrite),
                },
                new Progress<Engine.Files.RestoreProgress>(p => bar.Update(p.Bytes, $"{p.Files} files")),
                ct);
            bar.Dispose();
            var r = outcome.Result;
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["backup"] = outcome.Manifest.Id,
                    ["source"] = outcome.Manifest.Source,
                    ["destination"] = outcome.Destination,
                    ["files"] = r.Files,
                    ["directories"] = r.Directories,
                    ["symlinks"] = r.Symlinks,
                    ["bytes"] = r.Bytes,
                    ["ownersRestored"] = r.OwnersRestored,
                });
                return 0;
            }

            output.Line($"restored backup {outcome.Manifest.Id} of '{outcome.Manifest.Source}' to {outcome.Destination}");
            output.Line($"  {r.Files} files ({CliOutput.Size(r.Bytes)}), {r.Directories} directories, {r.Symlinks} symlinks; every chunk verified");
            if (!r.OwnersRestored)
            {
                output.Line("  owners were not restored (not running as root); modes and times were");
            }

            return 0;
        }));
        yield return command;
    }
}
