using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Sources;

/// <summary>A source added to the configuration.</summary>
/// <param name="Description">What it is, for people: "files, /srv/uploads", "cluster 7311…, PostgreSQL 15, /var/lib/…".</param>
/// <param name="Connected">The server the source was checked against, or null.</param>
/// <param name="Warnings">What could not be checked now (the source was added anyway).</param>
/// <param name="Next">The steps that come next, for people.</param>
public sealed record AddSourceResult(string Name, string Kind, string ConfigPath, string Description, string? Connected, IReadOnlyList<string> Warnings, IReadOnlyList<string> Next);

/// <summary>Writing a new source into the configuration: a name that is free, the options as a person would write them.</summary>
public sealed class SourceConfiguration
{
    private readonly Workspace _workspace;
    private readonly Events _events;
    private readonly TenantQuotas _quotas;

    public SourceConfiguration(Workspace workspace, Events events, TenantQuotas quotas)
    {
        _workspace = workspace;
        _events = events;
        _quotas = quotas;
    }

    public Workspace Workspace => _workspace;

    /// <summary>Refuses an invalid or taken name before anything else is checked.</summary>
    public void CheckName(string name)
    {
        SourceNames.Validate(name, "source name");
        if (_workspace.Config.Exists && _workspace.Options.Sources.ContainsKey(name))
        {
            throw new LifeboatException(ErrorCode.Refused, $"a source named '{name}' already exists in {_workspace.Config.Path}", $"choose another name, or remove it first with `lifeboat source remove {name}`");
        }
    }

    public async Task AddAsync(string name, SourceOptions options, CancellationToken cancellationToken)
    {
        CheckName(name);
        options.Validate(name, _workspace.Config.Path);
        await _quotas.EnsureSourceAsync(name, cancellationToken);
        _workspace.EditConfig(root => ConfigFile.Section(root, "Sources")[name] = ConfigJson.Section(options));
        await _events.PublishAsync(new ConfigurationChanged("source", "added", name, options.Kind), cancellationToken);
    }
}
