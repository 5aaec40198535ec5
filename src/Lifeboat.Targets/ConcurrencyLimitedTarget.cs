using System.Runtime.CompilerServices;

namespace Lifeboat.Targets;

/// <summary>Bounds how many operations run against a target at once (a per-target concurrency limit).</summary>
public sealed class ConcurrencyLimitedTarget : ITarget
{
    private readonly ITarget _inner;
    private readonly SemaphoreSlim _slots;

    public ConcurrencyLimitedTarget(ITarget inner, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        _inner = inner;
        _slots = new SemaphoreSlim(limit, limit);
    }

    public string DisplayName => _inner.DisplayName;

    public TargetCapabilities Capabilities => _inner.Capabilities;

    public ITarget Inner => _inner;

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            await _inner.SaveAsync(name, content, mode, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            await _inner.SaveFileAsync(name, path, mode, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            await _inner.LoadAsync(name, offset, length, consumer, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            return await _inner.StatAsync(name, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            await foreach (var item in _inner.ListAsync(prefix, cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            await _inner.DeleteAsync(name, cancellationToken);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync();
        _slots.Dispose();
    }
}
