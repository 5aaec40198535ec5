using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Postgres;
using Lifeboat.Repository.Format;
using Npgsql;

namespace Lifeboat.Engine.UseCases.Runbooks;

/// <summary>
/// `lifeboat runbook` and GET /api/v1/runbook: the recovery runbook of this installation, written from what is true now
/// — the configured sources, targets and key, the newest backups and recoverable windows in the repository, the last
/// drills in the catalog — for every scenario (<see cref="RunbookScenarios"/>), as Markdown or HTML
/// (<see cref="RunbookRenderer"/>). Reads only. A repository or catalog that cannot be opened does not stop it: the
/// runbook says so in its warnings, since that is when one is needed most.
/// </summary>
public sealed class GetRunbook : IUseCase<GetRunbookRequest, Runbook>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public GetRunbook(Workspace workspace, RepositoryOpener opener, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _opener = opener;
        _catalog = catalog;
        _time = time;
    }

    public async Task<Runbook> ExecuteAsync(GetRunbookRequest request, CancellationToken cancellationToken)
    {
        if (request.Format is not ("md" or "html"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«format» '{request.Format}' is not a runbook format", "use md (Markdown) or html");
        }

        if (request.Source is not null && request.Stack is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, "give «source» or «stack», not both", "leave both out for the runbook of every source");
        }

        var options = _workspace.Options;
        var names = request.Stack is not null ? _workspace.GetStack(request.Stack).Sources
            : request.Source is not null ? [NameOf(request.Source)]
            : options.Sources.Keys.Order(StringComparer.Ordinal).ToList();
        var warnings = new List<string>();
        var targets = Targets(warnings);
        var (manifests, windows, slots) = await RepositoryFactsAsync(names, warnings, cancellationToken);
        var drills = await DrillsAsync(names, warnings, cancellationToken);
        var sources = names.Select(n => Source(n, options.Sources[n], manifests, windows, drills.GetValueOrDefault(n))).ToList();
        var keys = new RunbookKeys(ConfiguredKey(options.Repository), slots);
        KeyWarnings(keys, warnings);
        foreach (var source in sources.Where(s => s.LastProvenDrill is null))
        {
            warnings.Add($"source '{source.Name}' has never been proven restorable by a drill: the commands below are untested for it; run `lifeboat drill --source {source.Name}`");
        }

        var command = "lifeboat --config " + Shell.Quote(_workspace.ConfigPath);
        var facts = new Runbook(request.Format, _time.GetUtcNow(), System.Environment.MachineName, _workspace.ConfigPath, command, Redact.Url(_workspace.RepositoryUrl), targets, keys, warnings, sources, request.Stack, [], "");
        var scenarios = new RunbookScenarios(facts).All();
        facts = facts with { Scenarios = scenarios };
        return facts with { Content = request.Format == "html" ? RunbookRenderer.Html(facts) : RunbookRenderer.Markdown(facts) };
    }

    private string NameOf(string source)
    {
        _workspace.GetSource(source);
        return source;
    }

    private List<RunbookTarget> Targets(List<string> warnings)
    {
        var targets = _workspace.All().Select(t => new RunbookTarget(t.Name, Redact.Url(t.Url), IsLocal(t.Url))).ToList();
        if (targets.Count == 1)
        {
            warnings.Add(targets[0].OnThisHost
                ? $"the only copy of the repository is {targets[0].Url}, on this host: if the host is lost, so is every backup; add an off-site target (`lifeboat repo target add offsite URL`)"
                : $"the repository has one target ({targets[0].Url}): if it is lost, so is every backup; add a second one (`lifeboat repo target add NAME URL`)");
        }
        else if (targets.All(t => t.OnThisHost))
        {
            warnings.Add("every copy of the repository is on this host: if the host is lost, so is every backup; add an off-site target (`lifeboat repo target add offsite URL`)");
        }

        return targets;
    }

    private static bool IsLocal(string url) => url.StartsWith('/') || url.StartsWith("file:", StringComparison.Ordinal);

    private async Task<(List<Manifest> Manifests, List<SourceWindow> Windows, List<RunbookKeySlot>? Slots)> RepositoryFactsAsync(IReadOnlyList<string> names, List<string> warnings, CancellationToken cancellationToken)
    {
        try
        {
            await using var repository = await _opener.OpenAsync(cancellationToken);
            var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
            var own = manifests.Where(m => names.Contains(m.Source)).ToList();
            var windows = await RecoveryWindows.ComputeAsync(repository, own, cancellationToken);
            var (slots, damaged) = await repository.ListKeysWithDamageAsync(cancellationToken);
            var views = slots.Select(s => new RunbookKeySlot(s.Id, s.Kind, s.Created, s.Host, s.Label, s.Id == repository.OpenedSlotId)).ToList();
            if (damaged.Count > 0)
            {
                warnings.Add($"{damaged.Count} key slot(s) are damaged and open nothing: {string.Join(", ", damaged.Select(d => d.SlotId))}");
            }

            return (own, windows, views);
        }
        catch (LifeboatException ex)
        {
            warnings.Add($"the repository could not be opened now ({ex.Message}): the backups, windows and key slots below are unknown; fix that first");
            return ([], [], null);
        }
    }

    private async Task<Dictionary<string, DrillStatus>> DrillsAsync(IReadOnlyList<string> names, List<string> warnings, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, DrillStatus>(StringComparer.Ordinal);
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            foreach (var name in names)
            {
                result[name] = await RecoveryFacts.DrillStatusAsync(catalog, name, cancellationToken);
            }
        }
        catch (LifeboatException ex)
        {
            warnings.Add($"the catalog could not be read ({ex.Message}): the drills below are unknown");
        }

        return result;
    }

    private static RunbookSource Source(string name, SourceOptions options, List<Manifest> manifests, List<SourceWindow> windows, DrillStatus? drills)
    {
        var latest = manifests.Where(m => m.Source == name).OrderBy(m => m.Finished).LastOrDefault();
        var (where, database) = options switch
        {
            ClusterSourceOptions c => (c.PgData ?? "?", DatabaseOf(c.Connection)),
            DatabaseSourceOptions d => ($"database {d.Database} on {Redact.ConnectionString(d.Connection ?? "")}", d.Database),
            FilesSourceOptions f => (f.Path ?? "?", null),
            ConfigSourceOptions k => (string.Join(", ", k.Paths), null),
            _ => ("?", null),
        };
        var window = windows.FirstOrDefault(w => w.Source == name) is { } w ? TimelineWindowView.From(w.Timelines) : [];
        return new RunbookSource(
            name,
            options.Kind,
            where,
            database,
            latest?.Id,
            latest?.Finished,
            latest is null ? null : ClusterBackupInfo.FromDetails(latest.Details)?.ServerVersionText,
            window,
            drills?.LastProvenDrill,
            drills?.LastProvenPoint,
            drills?.LastProvenAt,
            drills?.LatestRtoSeconds,
            drills?.RtoObjectiveSeconds);
    }

    private static string? DatabaseOf(string? connection)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connection);
            return builder.Database ?? builder.Username;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private string ConfiguredKey(RepositoryOptions repository)
    {
        if (_workspace.Keys.KeyFile is { } cliKey)
        {
            return $"the key file {_workspace.ResolvePath(cliKey)} (given with --key-file)";
        }

        if (_workspace.Environment.TryGetValue(KeyResolver.PassphraseVariable, out var passphrase) && !string.IsNullOrEmpty(passphrase))
        {
            return $"a passphrase in ${KeyResolver.PassphraseVariable}";
        }

        return !string.IsNullOrEmpty(repository.KeyFile) ? $"the key file {_workspace.ResolvePath(repository.KeyFile)} on {System.Environment.MachineName}"
            : !string.IsNullOrEmpty(repository.PassphraseFile) ? $"the passphrase file {_workspace.ResolvePath(repository.PassphraseFile)} on {System.Environment.MachineName}"
            : "a passphrase typed when asked (none is configured)";
    }

    private static void KeyWarnings(RunbookKeys keys, List<string> warnings)
    {
        if (keys.Slots is { Count: 1 } only)
        {
            warnings.Add($"the repository has one key slot ({only[0].Id}), opened by {keys.Configured}: if this host is lost, nothing can open the backups; add a second key and keep it off this host (`lifeboat repo key add --new-key-file FILE --label offsite`, then move FILE to a safe)");
        }
        else if (keys.Slots is { Count: > 1 } slots && slots.All(s => s.Host == System.Environment.MachineName && string.IsNullOrEmpty(s.Label)))
        {
            warnings.Add($"every key slot was made on this host and none is labelled: make sure at least one key is kept off it (`lifeboat repo key list` shows the slots)");
        }
    }
}

/// <summary>Quoting for the POSIX shell, for the commands a runbook prints.</summary>
public static class Shell
{
    public static string Quote(string word) => Postgres.Recovery.RecoveryConfig.ShellQuote(word);
}
