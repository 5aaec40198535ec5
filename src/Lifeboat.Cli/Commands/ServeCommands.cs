using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Server;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat serve</c>.</summary>
internal static class ServeCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen (default loopback only)", DefaultValueFactory = _ => LifeboatServer.DefaultUrls, HelpName = "URL" };
        var command = new Command("serve", "Run the schedules, and serve health, status, run history and Prometheus metrics over HTTP (read-only)") { urls };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var output = call.Output;
            var workspace = call.Workspace;
            using var logs = new TextWriterLoggerProvider(output.Error, parse.GetValue(app.Verbose) ? LogLevel.Debug : LogLevel.Information, scopes: true);
            await LifeboatServer.RunAsync(
                workspace.Reopen,
                call.Time,
                parse.GetValue(urls)!,
                logs,
                address => output.Note($"lifeboat: serving on {address} ({workspace.Options.Schedules.Count} schedule(s)); Ctrl-C stops"),
                ct);
            output.Note("lifeboat: stopped");
            return 0;
        }));
        yield return command;
    }
}
