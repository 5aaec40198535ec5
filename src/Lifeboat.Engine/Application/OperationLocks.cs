using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Engine.Application;

/// <summary>
/// The operation locks of one call (<see cref="OperationLock"/>: one per source, across processes): the use cases that
/// change a source (backup, restore, drill, expire, remove) hold its lock while they run, so a second operation on that
/// source — from the CLI, the scheduler or the API — fails fast with <see cref="Core.ErrorCode.RepositoryLocked"/>
/// naming the holder and since when. Re-entrant within the call: a scheduled run holds the lock and calls the backup,
/// a drill calls a restore, without blocking on itself. Scoped: one per call.
/// </summary>
public sealed class OperationLocks
{
    private readonly CallContext _call;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, int> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OperationLock> _locks = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public OperationLocks(CallContext call, TimeProvider time)
    {
        _call = call;
        _time = time;
    }

    /// <summary>Holds the lock <paramref name="name"/> (a source) until the result is disposed, or throws naming its holder.</summary>
    /// <param name="operation">What holds it, for the holder line: "backup", "restore".</param>
    public IDisposable Hold(string name, string operation)
    {
        lock (_gate)
        {
            if (_held.TryGetValue(name, out var count))
            {
                _held[name] = count + 1;
                return new Release(this, name);
            }

            var actor = _call.Actor;
            _locks[name] = OperationLock.Acquire(_call.Workspace.StateDirectory, name, $"{operation} by {actor.Kind} {actor.Name}", _time);
            _held[name] = 1;
            return new Release(this, name);
        }
    }

    /// <summary>Throws <see cref="Core.ErrorCode.RepositoryLocked"/> when another call holds <paramref name="name"/> now (a cheap check before a job is queued).</summary>
    public void EnsureFree(string name)
    {
        lock (_gate)
        {
            if (_held.ContainsKey(name))
            {
                return;
            }
        }

        if (OperationLock.Holder(_call.Workspace.StateDirectory, name) is { } holder)
        {
            throw OperationLock.Busy(name, holder);
        }
    }

    private void Exit(string name)
    {
        lock (_gate)
        {
            if (--_held[name] == 0)
            {
                _held.Remove(name);
                _locks.Remove(name, out var held);
                held?.Dispose();
            }
        }
    }

    private sealed class Release(OperationLocks owner, string name) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Exit(name);
            }
        }
    }
}
