using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Commands;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli;

/// <summary>
/// The `lifeboat` command line (CLI.md, docs/cli.md): builds the commands, runs one, and turns every failure into a
/// message, a hint and the contract's exit code — never a stack trace (that needs --verbose).
/// </summary>
public sealed class CliApp
{
    private readonly CliEnvironment _env;

    public CliApp(CliEnvironment environment)
    {
        _env = environment;
        Config = new Option<string?>("--config") { Description = "Configuration file (default: $LIFEBOAT_CONFIG, ./lifeboat.json, /etc/lifeboat/lifeboat.json)", Recursive = true, HelpName = "FILE" };
        PassphraseFile = new Option<string?>("--passphrase-file") { Description = "File holding the repository passphrase", Recursive = true, HelpName = "FILE" };
        KeyFile = new Option<string?>("--key-file") { Description = "Lifeboat key file that opens the repository", Recursive = true, HelpName = "FILE" };
        Verbose = new Option<bool>("--verbose", "-v") { Description = "Log debug messages and stack traces to stderr", Recursive = true };
    }

    public Option<string?> Config { get; }

    public Option<string?> PassphraseFile { get; }

    public Option<string?> KeyFile { get; }

    public Option<bool> Verbose { get; }

    public CliEnvironment Environment => _env;

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = new RootCommand("Lifeboat: disaster recovery for PostgreSQL-backed applications.");
        root.Options.Add(Config);
        root.Options.Add(PassphraseFile);
        root.Options.Add(KeyFile);
        root.Options.Add(Verbose);
        foreach (var command in RepoCommands.Create(this)
                     .Concat(SourceCommands.Create(this))
                     .Concat(BackupCommands.Create(this))
                     .Concat(StackCommands.Create(this))
                     .Concat(RestoreCommands.Create(this))
                     .Concat(MaintenanceCommands.Create(this))
                     .Concat(DemoCommands.Create(this))
                     .Concat(OperationsCommands.Create(this))
                     .Concat(TargetCommands.Create(this))
                     .Concat(ServeCommands.Create(this))
                     .Concat(DrillCommands.Create(this))
                     .Concat([ClusterCommands.Check(this), ClusterCommands.Archiving(this), ClusterCommands.WalPush(this), ClusterCommands.WalFetch(this)]))
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                _env.Error.WriteLine("lifeboat: " + error.Message);
            }

            var name = parse.CommandResult.Command == root ? "" : " " + string.Join(' ', CommandPath(parse.CommandResult.Command));
            _env.Error.WriteLine($"hint: see `lifeboat{name} --help`");
            return ErrorCode.Usage.ToExitCode();
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = _env.Out, Error = _env.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
    }

    /// <summary>Runs a command body with an engine context and output, mapping every failure to an exit code.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "The command body reads best as the last argument.")]
    internal async Task<int> ExecuteAsync(ParseResult parse, bool json, CancellationToken cancellationToken, Func<EngineContext, CliOutput, Task<int>> body)
    {
        var output = new CliOutput(_env, json);
        var verbose = parse.GetValue(Verbose);
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new TextWriterLoggerProvider(_env.Error, verbose ? LogLevel.Debug : LogLevel.Warning)).SetMinimumLevel(LogLevel.Trace));
        try
        {
            var context = new EngineContext
            {
                ConfigFile = ConfigFile.Resolve(parse.GetValue(Config), _env.Variables, _env.WorkingDirectory),
                Environment = _env.Variables,
                WorkingDirectory = _env.WorkingDirectory,
                Time = _env.Time,
                LoggerFactory = loggerFactory,
                Keys = new KeyOptions { PassphraseFile = parse.GetValue(PassphraseFile), KeyFile = parse.GetValue(KeyFile), Prompt = _env.Prompt },
            };
            return await body(context, output);
        }
        catch (LifeboatException ex)
        {
            Report(output, ex.Code, ex.Message, ex.Hint, verbose ? ex : null, ex is DamageException d ? d : null);
            return ex.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Report(output, ErrorCode.Cancelled, "interrupted", "nothing was committed by the interrupted operation; the repository is consistent and the next run starts over", null, null);
            return ErrorCode.Cancelled.ToExitCode();
        }
        catch (Exception ex)
        {
            Report(output, ErrorCode.Failed, $"unexpected error: {ex.Message}", verbose ? null : "run again with --verbose for details, and report it if it persists", verbose ? ex : null, null);
            return ErrorCode.Failed.ToExitCode();
        }
    }

    private void Report(CliOutput output, ErrorCode code, string message, string? hint, Exception? details, DamageException? damage)
    {
        _env.Error.WriteLine("lifeboat: " + message);
        if (hint is not null)
        {
            _env.Error.WriteLine("hint: " + hint);
        }

        if (details is not null)
        {
            _env.Error.WriteLine(details.ToString());
        }

        if (output.Json)
        {
            var error = new JsonObject
            {
                ["code"] = code.ToString(),
                ["exitCode"] = code.ToExitCode(),
                ["message"] = message,
                ["hint"] = hint,
            };
            if (damage is not null)
            {
                error["damagedObjects"] = new JsonArray(damage.DamagedObjects.Select(o => (JsonNode?)o).ToArray());
                error["affectedBackups"] = new JsonArray(damage.AffectedBackups.Select(o => (JsonNode?)o).ToArray());
            }

            output.WriteJson(new JsonObject { ["error"] = error });
        }
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c && s is not RootCommand; s = c.Parents.FirstOrDefault())
        {
            names.Add(c.Name);
        }

        names.Reverse();
        return names;
    }
}
