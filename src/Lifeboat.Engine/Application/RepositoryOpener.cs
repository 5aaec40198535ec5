using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;
using Lifeboat.Targets;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Application;

/// <summary>How targets are opened in this process: the retry budget, and a decorator (fault injection in tests).</summary>
public sealed class TargetSettings
{
    /// <summary>Wraps every target opened, inside the retry decorator.</summary>
    public Func<ITarget, ITarget>? Decorator { get; init; }

    /// <summary>How transient target failures are retried.</summary>
    public RetryOptions Retry { get; init; } = new();
}

/// <summary>
/// Opens the targets and the repository of the call's workspace, with the usual decorators (retry, concurrency, and
/// the process's <see cref="TargetSettings.Decorator"/>), and the key the workspace resolves.
/// </summary>
public sealed class RepositoryOpener
{
    private readonly Workspace _workspace;
    private readonly TargetSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;

    public RepositoryOpener(Workspace workspace, TargetSettings settings, TimeProvider time, ILoggerFactory loggers)
    {
        _workspace = workspace;
        _settings = settings;
        _time = time;
        _loggers = loggers;
    }

    public ITarget OpenTarget(string url) => OpenTarget(url, null, null);

    /// <summary>Opens a target with the usual decorators; <paramref name="wrap"/> goes inside the retry decorator.</summary>
    /// <param name="retry">The retry budget; null: the process's.</param>
    public ITarget OpenTarget(string url, RetryOptions? retry, Func<ITarget, ITarget>? wrap)
    {
        var decorator = _settings.Decorator;
        return TargetFactory.Open(url, new TargetOpenOptions
        {
            Logger = _loggers.CreateLogger("Lifeboat.Targets"),
            TimeProvider = _time,
            Retry = retry ?? _settings.Retry,
            Decorator = wrap is null ? decorator : t => wrap(decorator?.Invoke(t) ?? t),
            Environment = _workspace.Environment,
            GroupReadable = _workspace.OptionsOrEmpty.Repository.GroupReadable,
        });
    }

    /// <summary>Opens the repository on its primary target (for writing, and for reading when no fallback is wanted).</summary>
    public Task<Repo> OpenAsync(CancellationToken cancellationToken) => OpenAsync(OpenTarget(_workspace.RepositoryUrl), cancellationToken);

    /// <summary>
    /// Opens the repository to read it: from the target named <paramref name="from"/> (<c>primary</c> or a secondary), or
    /// else from the primary and, when the primary cannot be read (unreachable, refused, missing, damaged config), from the
    /// next target that can, with a warning naming what failed. Never for writing: backups go to the primary only.
    /// </summary>
    /// <param name="openedFrom">Told the name of the target the repository was opened from.</param>
    public Task<Repo> OpenForReadingAsync(string? from, CancellationToken cancellationToken, Action<string>? openedFrom = null)
        => new TargetReader(_workspace, this, _loggers.CreateLogger<TargetReader>()).OpenAsync(from, cancellationToken, openedFrom);

    /// <summary>Opens the repository stored on <paramref name="target"/> (owned by the result; disposed on failure).</summary>
    public async Task<Repo> OpenAsync(ITarget target, CancellationToken cancellationToken)
    {
        try
        {
            return await Repo.OpenAsync(
                target,
                () => KeyResolver.Resolve(_workspace.Options.Repository, _workspace.Keys, _workspace.Environment, _workspace.WorkingDirectory),
                _time,
                _loggers.CreateLogger("Lifeboat.Repository"),
                cancellationToken);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }
}
