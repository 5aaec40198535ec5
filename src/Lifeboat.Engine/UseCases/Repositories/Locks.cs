using Lifeboat.Engine.Application;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Engine.UseCases.Repositories;

/// <param name="All">Remove every lock, not only stale ones (only when no Lifeboat process uses the repository).</param>
public sealed record UnlockRepositoryRequest(bool All = false);

/// <param name="StaleReason">Why the lock was stale, or null (removed with «all»).</param>
public sealed record RemovedLock(string Lock, string? StaleReason);

public sealed record UnlockRepositoryResult(IReadOnlyList<RemovedLock> Removed, IReadOnlyList<string> StillHeld);

/// <summary>`repo unlock`: removes the locks left by processes that died (or, with «all», every lock).</summary>
public sealed class UnlockRepository : IUseCase<UnlockRepositoryRequest, UnlockRepositoryResult>
{
    private readonly RepositoryOpener _opener;
    private readonly Events _events;

    public UnlockRepository(RepositoryOpener opener, Events events)
    {
        _opener = opener;
        _events = events;
    }

    public async Task<UnlockRepositoryResult> ExecuteAsync(UnlockRepositoryRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var removed = await RepositoryLock.UnlockAsync(repository, request.All, cancellationToken);
        var left = await RepositoryLock.ListAsync(repository, cancellationToken);
        if (removed.Count > 0)
        {
            await _events.PublishAsync(new RepositoryChanged("unlocked", repository.DisplayName, null, $"{removed.Count} lock(s) removed"), cancellationToken);
        }

        return new UnlockRepositoryResult(
            removed.Select(r => new RemovedLock(r.Lock.Describe(), r.IsStale ? r.StaleReason : null)).ToList(),
            left.Select(l => l.Lock.Describe()).ToList());
    }
}

public sealed record RebuildIndexRequest;

/// <summary>`repo rebuild-index`: rebuilds the index from the pack headers under an exclusive lock (damaged packs: exit 3).</summary>
public sealed class RebuildIndex : IUseCase<RebuildIndexRequest, RebuildIndexReport>
{
    private readonly RepositoryOpener _opener;
    private readonly CallContext _call;

    public RebuildIndex(RepositoryOpener opener, CallContext call)
    {
        _opener = opener;
        _call = call;
    }

    public async Task<RebuildIndexReport> ExecuteAsync(RebuildIndexRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "rebuild-index", cancellationToken);
        return await new IndexRebuilder(repository).RebuildAsync(new Progress<string>(s => _call.Report(new ProgressUpdate("rebuild-index", s))), cancellationToken);
    }
}
