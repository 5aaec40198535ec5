using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Repository;
using Lifeboat.Targets;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Replication;

/// <summary>
/// Reading from any target: the primary first, then each secondary, falling back when a target cannot be read. A target
/// that has a fallback after it is tried with a short retry budget (<see cref="FailFastTarget"/>), so an unreachable
/// primary costs about a second, not the whole retry budget, for every file PostgreSQL asks for.
/// </summary>
public sealed partial class TargetReader
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly ILogger _logger;

    public TargetReader(Workspace workspace, RepositoryOpener opener, ILogger<TargetReader> logger)
    {
        _workspace = workspace;
        _opener = opener;
        _logger = logger;
    }

    /// <summary>The targets to read from, in order: the one named first (alone when <paramref name="only"/>), else all.</summary>
    public static IReadOnlyList<ConfiguredTarget> Order(Workspace workspace, string? first, bool only)
    {
        if (first is null)
        {
            return workspace.All();
        }

        var named = workspace.Target(first);
        return only ? [named] : [named, .. workspace.All().Where(t => t.Name != named.Name)];
    }

    /// <summary>See <see cref="RepositoryOpener.OpenForReadingAsync"/>.</summary>
    /// <param name="openedFrom">Told the name of the target the repository was opened from.</param>
    public async Task<Repo> OpenAsync(string? from, CancellationToken cancellationToken, Action<string>? openedFrom = null)
    {
        var candidates = Order(_workspace, from, only: from is not null);
        for (var i = 0; ; i++)
        {
            var candidate = candidates[i];
            var last = i == candidates.Count - 1;
            FailFastTarget? gate = null;
            var target = _opener.OpenTarget(candidate.Url, null, last ? null : t => gate = new FailFastTarget(t));
            try
            {
                var repository = await _opener.OpenAsync(target, cancellationToken);
                if (gate is not null)
                {
                    gate.Enabled = false;
                }

                if (i > 0)
                {
                    LogReadingFrom(_logger, candidate.Display);
                }

                openedFrom?.Invoke(candidate.Name);
                return repository;
            }
            catch (LifeboatException ex) when (!last && CanFallBack(ex))
            {
                LogCannotRead(_logger, candidate.Display, ex.Message);
            }
        }
    }

    /// <summary>
    /// Whether another target may succeed where this one failed: the target could not be reached or read, or its copy is
    /// missing or damaged. Not for a wrong passphrase or a missing key, which every target would refuse alike.
    /// </summary>
    public static bool CanFallBack(LifeboatException ex)
        => ex is TargetException || ex.Code is ErrorCode.RepositoryUnavailable or ErrorCode.Damage or ErrorCode.TargetFailed or ErrorCode.NotFound or ErrorCode.NoSuchBackup or ErrorCode.Failed;

    /// <summary>
    /// The same repository on another target, for reading one object there after <paramref name="opened"/> was opened
    /// elsewhere: its config is checked (one read) instead of opening the key slots again.
    /// </summary>
    public static async Task<Repo> ReplicaAsync(Repo opened, ITarget target, CancellationToken cancellationToken)
    {
        try
        {
            if (await ReplicaIdentity.CheckAsync(opened, target, cancellationToken) != ReplicaState.SameRepository)
            {
                throw new LifeboatException(ErrorCode.RepositoryUnavailable, $"{target.DisplayName} holds no replica of the repository yet", "run `lifeboat replicate`");
            }

            return opened.OnTarget(target);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Cannot read target {Target}: {Error}; trying the next target")]
    private static partial void LogCannotRead(ILogger logger, string target, string error);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Reading from target {Target}")]
    private static partial void LogReadingFrom(ILogger logger, string target);
}
