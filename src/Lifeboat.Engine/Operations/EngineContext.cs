using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Repository.Writing;
using Lifeboat.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>
/// Everything a use case needs from its surroundings: the configuration file, environment variables, the working
/// directory, the clock, logging and the key options. One per command invocation (or server request).
/// </summary>
public sealed class EngineContext
{
    private LifeboatOptions? _options;

    public required ConfigFile ConfigFile { get; init; }

    public required IReadOnlyDictionary<string, string?> Environment { get; init; }

    public required string WorkingDirectory { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    public KeyOptions Keys { get; init; } = new();

    /// <summary>Wraps every target opened, inside the retry decorator (fault injection in tests).</summary>
    public Func<ITarget, ITarget>? TargetDecorator { get; init; }

    /// <summary>How transient target failures are retried.</summary>
    public RetryOptions Retry { get; init; } = new();

    /// <summary>The configuration, read and validated on first use.</summary>
    public LifeboatOptions Options => _options ??= ConfigFile.Load(Environment);

    /// <summary>Forgets the cached configuration after the file was edited.</summary>
    public void Reload() => _options = null;

    public ITarget OpenTarget(string url) => OpenTarget(url, null, null);

    /// <summary>Opens a target with the usual decorators; <paramref name="wrap"/> goes inside the retry decorator.</summary>
    /// <param name="retry">The retry budget; null: <see cref="Retry"/>.</param>
    public ITarget OpenTarget(string url, RetryOptions? retry, Func<ITarget, ITarget>? wrap)
    {
        var decorator = TargetDecorator;
        return TargetFactory.Open(url, new TargetOpenOptions
        {
            Logger = LoggerFactory.CreateLogger("Lifeboat.Targets"),
            TimeProvider = Time,
            Retry = retry ?? Retry,
            Decorator = wrap is null ? decorator : t => wrap(decorator?.Invoke(t) ?? t),
            Environment = Environment,
        });
    }

    public string RepositoryUrl => Options.Repository.Url
        ?? throw new LifeboatException(ErrorCode.Config, $"no repository is configured in {ConfigFile.Path}", "create one with `lifeboat repo init --repo URL`, or set Repository:Url");

    public Task<Repo> OpenRepositoryAsync(CancellationToken cancellationToken) => OpenRepositoryAsync(OpenTarget(RepositoryUrl), cancellationToken);

    /// <summary>
    /// Opens the repository to read it: from the target named <paramref name="from"/> (<c>primary</c> or a secondary), or
    /// else from the primary and, when the primary cannot be read (unreachable, refused, missing, damaged config), from the
    /// next target that can, with a warning naming what failed. Never for writing: backups go to the primary only.
    /// </summary>
    public Task<Repo> OpenRepositoryForReadingAsync(string? from, CancellationToken cancellationToken)
        => Replication.TargetReader.OpenAsync(this, from, cancellationToken);

    /// <summary>Opens the repository stored on <paramref name="target"/> (owned by the result; disposed on failure).</summary>
    public async Task<Repo> OpenRepositoryAsync(ITarget target, CancellationToken cancellationToken)
    {
        try
        {
            return await Repo.OpenAsync(
                target,
                () => KeyResolver.Resolve(Options.Repository, Keys, Environment, WorkingDirectory),
                Time,
                LoggerFactory.CreateLogger("Lifeboat.Repository"),
                cancellationToken);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }

    public SourceOptions GetSource(string name)
    {
        if (!Options.Sources.TryGetValue(name, out var source))
        {
            var known = Options.Sources.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", Options.Sources.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no source '{name}' in {ConfigFile.Path} ({known})", "`lifeboat source list` shows the sources; add one with `lifeboat source add-files`");
        }

        return source;
    }

    public StackOptions GetStack(string name)
    {
        if (!Options.Stacks.TryGetValue(name, out var stack))
        {
            var known = Options.Stacks.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", Options.Stacks.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.InvalidInput, $"there is no stack '{name}' in {ConfigFile.Path} ({known})", "`lifeboat stack list` shows the stacks; add one with `lifeboat stack add NAME --sources A,B,C`");
        }

        return stack;
    }

    public WriterOptions WriterOptions => new()
    {
        Workers = Options.Repository.Workers ?? System.Environment.ProcessorCount,
        CompressionLevel = Options.Repository.CompressionLevel,
        SpoolDirectory = Options.Repository.SpoolDirectory,
    };

    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);

    /// <summary>Where the SQLite catalog lives: Catalog:Path, or lifeboat.db next to the configuration file.</summary>
    public string CatalogPath => Options.Catalog.Path is { } p ? ResolvePath(p) : Path.Combine(Path.GetDirectoryName(ConfigFile.Path)!, "lifeboat.db");

    /// <summary>Directory for state that must outlive one process (operation locks).</summary>
    public string StateDirectory => Path.GetDirectoryName(CatalogPath)!;

    public async Task<LifeboatCatalog> OpenCatalogAsync(CancellationToken cancellationToken)
        => Options.Catalog.ConnectionString is { } cs
            ? await LifeboatCatalog.OpenPostgresAsync(cs, Time, cancellationToken)
            : await LifeboatCatalog.OpenSqliteAsync(CatalogPath, Time, cancellationToken);
}
