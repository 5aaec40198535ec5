using System.Runtime.CompilerServices;

namespace Lifeboat.Targets;

/// <summary>
/// Placed inside the retry decorator, turns transient failures into permanent ones while <see cref="Enabled"/>, after
/// <see cref="TransientAllowed"/> of them: the retry decorator then gives up at once. Used where the caller has somewhere
/// else to go (another target holding the same repository), so that an unreachable target costs a second, not the whole
/// retry budget (restore, wal-fetch and replication fall back or skip; wal-push to a secondary is caught up later).
/// </summary>
public sealed class FailFastTarget : ITarget
{
    private readonly ITarget _inner;
    private int _transientSeen;

    public FailFastTarget(ITarget inner) => _inner = inner;

    /// <summary>While true, transient failures beyond <see cref="TransientAllowed"/> are reported as permanent.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many transient failures are still passed on as transient (so retried once, with the retry's first delay).</summary>
    public int TransientAllowed { get; init; } = 1;

    public string DisplayName => _inner.DisplayName;

    public TargetCapabilities Capabilities => _inner.Capabilities;

    public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
        => GuardAsync(() => _inner.SaveAsync(name, content, mode, cancellationToken));

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => GuardAsync(() => _inner.SaveFileAsync(name, path, mode, cancellationToken));

    public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
        => GuardAsync(() => _inner.LoadAsync(name, offset, length, consumer, cancellationToken));

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return await _inner.StatAsync(name, cancellationToken);
        }
        catch (TargetException ex) when (ShouldStop(ex))
        {
            throw Permanent(ex);
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var enumerator = _inner.ListAsync(prefix, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (TargetException ex) when (ShouldStop(ex))
            {
                throw Permanent(ex);
            }

            yield return enumerator.Current;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
        => GuardAsync(() => _inner.DeleteAsync(name, cancellationToken));

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private async Task GuardAsync(Func<Task> operation)
    {
        try
        {
            await operation();
        }
        catch (TargetException ex) when (ShouldStop(ex))
        {
            throw Permanent(ex);
        }
    }

    private bool ShouldStop(TargetException ex)
        => Enabled && ex.IsTransient && Interlocked.Increment(ref _transientSeen) > TransientAllowed;

    private static TargetException Permanent(TargetException ex) => new(ex.Kind, ex.Message, isTransient: false, ex.Hint, ex);
}
