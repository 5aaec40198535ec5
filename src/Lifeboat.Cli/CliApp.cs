using System.CommandLine;
using Lifeboat.Cli.Commands;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        IgnoreMaintenance = new Option<bool>("--ignore-maintenance") { Description = "Write to a source in maintenance mode all the same (you are doing the maintenance)", Recursive = true };
        Wait = new Option<bool>("--wait") { Description = "When the operation needs approval, wait for the decision and then run it", Recursive = true };
        Approval = new Option<string?>("--approval") { Description = "Execute this approved request (apr_…): the operation must be exactly the approved one", Recursive = true, HelpName = "ID" };
        Tenant = new Option<string?>("--tenant") { Description = $"Act in this tenant's workspace (default: ${TenantVariable}, else the server's own)", Recursive = true, HelpName = "NAME" };
    }

    /// <summary>The environment variable naming the tenant a command acts in (docs/tenants.md).</summary>
    public const string TenantVariable = "LIFEBOAT_TENANT";

    public Option<string?> Tenant { get; }

    public Option<bool> Wait { get; }

    public Option<string?> Approval { get; }

    public Option<string?> Config { get; }

    public Option<string?> PassphraseFile { get; }

    public Option<string?> KeyFile { get; }

    public Option<bool> Verbose { get; }

    public Option<bool> IgnoreMaintenance { get; }

    public CliEnvironment Environment => _env;

    /// <summary>Every command and the options every command takes (the tests parse printed command lines with it).</summary>
    internal RootCommand CreateRoot()
    {
        var root = new RootCommand("Lifeboat: disaster recovery for PostgreSQL-backed applications.");
        root.Options.Add(Config);
        root.Options.Add(PassphraseFile);
        root.Options.Add(KeyFile);
        root.Options.Add(Verbose);
        root.Options.Add(IgnoreMaintenance);
        root.Options.Add(Wait);
        root.Options.Add(Approval);
        root.Options.Add(Tenant);
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
                     .Concat([TokenCommands.Create(this)])
                     .Concat([AuditCommands.Create(this)])
                     .Concat([EventsCommands.Create(this), WebhookCommands.Create(this), NotifyCommands.Create(this)])
                     .Concat([MaintenanceModeCommands.Create(this)])
                     .Concat([ApprovalsCommands.Create(this)])
                     .Concat([TenantCommands.Create(this)])
                     .Concat([ClusterCommands.Check(this), ClusterCommands.Archiving(this), ClusterCommands.WalPush(this), ClusterCommands.WalFetch(this), ClusterCommands.WalPrefetch(this)]))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    public async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var root = CreateRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var name = parse.CommandResult.Command == root ? "" : " " + string.Join(' ', CommandPath(parse.CommandResult.Command));
            if (UsageError(parse, name) is { } one)
            {
                // One clean error for a mistyped word, instead of System.CommandLine's "Required command was not
                // provided" and an "Unrecognized command or argument" line per token.
                _env.Error.WriteLine("lifeboat: " + one.Message);
                _env.Error.WriteLine("hint: " + one.Hint);
                return ErrorCode.Usage.ToExitCode();
            }

            foreach (var error in parse.Errors)
            {
                _env.Error.WriteLine("lifeboat: " + error.Message);
            }

            _env.Error.WriteLine($"hint: see `lifeboat{name} --help`");
            return ErrorCode.Usage.ToExitCode();
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = _env.Out, Error = _env.Error, EnableDefaultExceptionHandler = false }, cancellationToken);
    }

    /// <summary>
    /// Runs a command body in its own call of the application layer (a service scope whose workspace is the resolved
    /// configuration file), mapping every failure to a message, a hint and an exit code. «field» references in the
    /// Engine's messages become this command's flags: <c>targetTime</c> → <c>--target-time</c>, or what
    /// <paramref name="fields"/> says (a positional argument, a flag named differently). <paramref name="failureExitCode"/>
    /// maps a non-zero exit code (of the body or of a failure) for a command whose caller reads exit codes its own way.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "The command body reads best after the token.")]
    internal async Task<int> ExecuteAsync(ParseResult parse, bool json, CancellationToken cancellationToken, Func<CliCall, Task<int>> body, IReadOnlyDictionary<string, string>? fields = null, Func<int, int>? failureExitCode = null)
    {
        var code = await ExecuteCoreAsync(parse, json, cancellationToken, body, fields);
        return failureExitCode is null || code == 0 ? code : failureExitCode(code);
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "The command body reads best after the token.")]
    private async Task<int> ExecuteCoreAsync(ParseResult parse, bool json, CancellationToken cancellationToken, Func<CliCall, Task<int>> body, IReadOnlyDictionary<string, string>? fields)
    {
        var output = new CliOutput(_env, json);
        var verbose = parse.GetValue(Verbose);
        string Field(string name) => fields is not null && fields.TryGetValue(name, out var shown) ? shown : FieldText.AsFlag(name);
        var approval = parse.GetValue(Approval);
        while (true)
        {
            try
            {
                return await RunBodyAsync(parse, output, approval, body);
            }
            catch (ApprovalRequiredException ex) when (parse.GetValue(Wait))
            {
                // --wait: the request id now, the decision when it comes; approved, the same command runs with it.
                _env.Error.WriteLine("lifeboat: " + ex.Message);
                _env.Error.WriteLine($"waiting for the decision on {ex.Request.Id} (until {CliOutput.Time(ex.Request.ApproveBy)}; Ctrl-C stops waiting, the request stays)...");
                var code = await ExecuteCoreAsync(parse, json: false, cancellationToken, async call =>
                {
                    var approved = await call.Get<Engine.UseCases.Approvals.AwaitApproval>().ExecuteAsync(new Engine.UseCases.Approvals.AwaitApprovalRequest(ex.Request.Id, PollInterval: TimeSpan.FromSeconds(1)), cancellationToken);
                    call.Output.Note($"{approved.Id} approved by {string.Join(", ", approved.Decisions.Where(d => d.Decision == "approve").Select(d => d.By))}: running it");
                    return 0;
                }, fields);
                if (code != 0)
                {
                    return code;
                }

                approval = ex.Request.Id;
            }
            catch (ApprovalRequiredException ex)
            {
                Report(output, ErrorView.From(ex, Field), null, ex.Request);
                return ex.ExitCode;
            }
            catch (LifeboatException ex)
            {
                Report(output, ErrorView.From(ex, Field), verbose ? ex : null);
                return ex.ExitCode;
            }
            catch (UnauthorizedAccessException ex)
            {
                var error = LifeboatException.PermissionDenied(ex);
                Report(output, ErrorView.From(error, Field), verbose ? ex : null);
                return error.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Report(output, ErrorView.Of(ErrorCode.Cancelled, "interrupted", "nothing was committed by the interrupted operation; the repository is consistent and the next run starts over"), null);
                return ErrorCode.Cancelled.ToExitCode();
            }
            catch (Exception ex)
            {
                Report(output, ErrorView.Of(ErrorCode.Failed, $"unexpected error: {ex.Message}", verbose ? null : "run again with --verbose for details, and report it if it persists"), verbose ? ex : null);
                return ErrorCode.Failed.ToExitCode();
            }
        }
    }

    private async Task<int> RunBodyAsync(ParseResult parse, CliOutput output, string? approval, Func<CliCall, Task<int>> body)
    {
        {
            await using var provider = Services(parse.GetValue(Verbose) ? LogLevel.Debug : LogLevel.Warning).BuildServiceProvider();
            await using var scope = provider.CreateAsyncScope();
            var context = scope.ServiceProvider.GetRequiredService<CallContext>();
            var keys = new KeyOptions { PassphraseFile = parse.GetValue(PassphraseFile), KeyFile = parse.GetValue(KeyFile), Prompt = _env.Prompt };
            var host = new Workspace(ConfigFile.Resolve(parse.GetValue(Config), _env.Variables, _env.WorkingDirectory), _env.Variables, _env.WorkingDirectory, keys);
            var tenant = parse.GetValue(Tenant) ?? (_env.Variables.TryGetValue(TenantVariable, out var named) && !string.IsNullOrEmpty(named) ? named : null);
            context.Workspace = tenant is null or Workspace.DefaultName ? host : await TenantWorkspaceAsync(host, tenant, keys, new CatalogAccess(host, _env.Time)); // not the scope's: it would keep the host's workspace
            context.Actor = Actor.Cli(System.Environment.UserName);
            context.IgnoreMaintenance = parse.GetValue(IgnoreMaintenance);
            context.ApprovalId = approval;
            using var logScope = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Lifeboat.Cli").BeginScope(new CorrelationScope(context.CorrelationId));
            return await body(new CliCall(scope.ServiceProvider, context, output, _env));
        }
    }

    /// <summary>The workspace of a tenant of the server whose configuration this is; exit 2 listing the tenants for an unknown name.</summary>
    private static async Task<Workspace> TenantWorkspaceAsync(Workspace host, string tenant, KeyOptions keys, CatalogAccess hostCatalog)
    {
        var registry = await hostCatalog.OpenAsync(CancellationToken.None);
        if (await registry.TenantAsync(tenant, CancellationToken.None) is null)
        {
            var names = (await registry.TenantsAsync(null, null, CancellationToken.None)).Select(t => t.Name).ToList();
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no tenant '{tenant}' in the catalog of {host.ConfigPath} ({(names.Count == 0 ? "it has none" : "tenants: " + string.Join(", ", names))})", $"`lifeboat tenant list` shows them; leave out --tenant (and ${TenantVariable}) for the server's own workspace");
        }

        return TenantWorkspaces.Open(host, tenant, keys);
    }

    /// <summary>The application layer as this invocation uses it: its clock, its log writer (stderr), every use case.</summary>
    internal IServiceCollection Services(LogLevel minimum)
    {
        var services = new ServiceCollection();
        services.AddSingleton(_env.Time);
        services.AddLogging(b => b.ClearProviders().AddProvider(new TextWriterLoggerProvider(_env.Error, minimum, scopes: minimum <= LogLevel.Debug)).SetMinimumLevel(LogLevel.Trace));
        services.AddLifeboatEngine();
        return services;
    }

    private void Report(CliOutput output, ErrorView error, Exception? details, Engine.UseCases.Approvals.ApprovalView? approval = null)
    {
        _env.Error.WriteLine("lifeboat: " + error.Message);
        if (error.Hint is not null)
        {
            _env.Error.WriteLine("hint: " + error.Hint);
        }

        if (details is not null)
        {
            _env.Error.WriteLine(details.ToString());
        }

        if (output.Json)
        {
            output.WriteJson(new ErrorDocument(error, approval), LifeboatJson.Default.ErrorDocument);
        }
    }

    /// <summary>
    /// The first word the parser could not place, as one error with the nearest command or option ("did you mean
    /// 'backup'?"); a command that needs a subcommand and got none lists them. Null when the errors are of another kind
    /// (a missing required option, a bad value): those messages are clear as they are.
    /// </summary>
    private static (string Message, string Hint)? UsageError(ParseResult parse, string name)
    {
        var command = parse.CommandResult.Command;
        var subcommands = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
        var token = parse.UnmatchedTokens.FirstOrDefault();
        if (token is null)
        {
            return subcommands.Count > 0 && command.Action is null
                ? ($"`lifeboat{name}` needs a command{(subcommands.Count <= 12 ? ": " + string.Join(", ", subcommands) : "")}", $"`lifeboat{name} --help` describes {(name.Length == 0 ? "the commands" : "them")}")
                : null;
        }

        if (token.StartsWith('-'))
        {
            var options = new List<string>();
            for (Symbol? s = command; s is Command c; s = c.Parents.FirstOrDefault())
            {
                options.AddRange(c.Options.Where(o => !o.Hidden && (s == command || o.Recursive)).SelectMany(o => o.Aliases.Prepend(o.Name)));
            }

            var option = Nearest.Match(token, options.Where(o => o.StartsWith("--", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList());
            return ($"unknown option '{token}'{(option is null ? "" : $" (did you mean '{option}'?)")}", $"see `lifeboat{name} --help`");
        }

        if (subcommands.Count > 0)
        {
            var near = Nearest.Match(token, subcommands);
            var hint = name.Length == 0 ? "`lifeboat --help` lists the commands" : $"`lifeboat{name} --help` lists its commands";
            return ($"unknown command '{(name + " " + token).TrimStart()}'{(near is null ? "" : $" (did you mean '{(name + " " + near).TrimStart()}'?)")}", hint);
        }

        return ($"unexpected argument '{token}'", $"see `lifeboat{name} --help`");
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
