using Lifeboat.Targets;

namespace Lifeboat.Testing;

/// <summary>
/// A target decorator that injects faults: a full disk after some bytes, transient failures, corrupted reads.
/// Used to prove that a failure at any point leaves the repository consistent (STYLE.md rule 16).
/// </summary>
public sealed class FaultyTarget : ITarget
{
    private readonly ITarget _inner;
    private long _bytesSaved;
    private int _transientLeft;

    public FaultyTarget(ITarget inner) => _inner = inner;

    /// <summary>Saves fail with NoSpace once this many bytes were saved (null: never).</summary>
    public long? NoSpaceAfterBytes { get; set; }

    /// <summary>Only objects whose name starts with this prefix count and fail (default: all).</summary>
    public string FailPrefix { get; set; } = "";

    /// <summary>The next N operations fail with a transient error.</summary>
    public int TransientFailures
    {
        get => _transientLeft;
        set => _transientLeft = value;
    }

    /// <summary>Every save first waits this long (cancellable): a slow target, for operations that must be caught mid-way.</summary>
    public TimeSpan SaveDelay { get; set; }

    public int Operations;

    public string DisplayName => _inner.DisplayName;

    public TargetCapabilities Capabilities => _inner.Capabilities;

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        BeforeSave(name, content.Length);
        await DelayAsync(cancellationToken);
        await _inner.SaveAsync(name, content, mode, cancellationToken);
    }

    public async Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
    {
        BeforeSave(name, new FileInfo(path).Length);
        await DelayAsync(cancellationToken);
        await _inner.SaveFileAsync(name, path, mode, cancellationToken);
    }

    public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        Transient(name);
        return _inner.LoadAsync(name, offset, length, consumer, cancellationToken);
    }

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        Transient(name);
        return _inner.StatAsync(name, cancellationToken);
    }

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken) => _inner.ListAsync(prefix, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) => _inner.DeleteAsync(name, cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    private Task DelayAsync(CancellationToken cancellationToken)
        => SaveDelay > TimeSpan.Zero ? Task.Delay(SaveDelay, cancellationToken) : Task.CompletedTask;

    private void BeforeSave(string name, long length)
    {
        Transient(name);
        if (!name.StartsWith(FailPrefix, StringComparison.Ordinal))
        {
            return;
        }

        if (NoSpaceAfterBytes is { } limit && Interlocked.Add(ref _bytesSaved, length) > limit)
        {
            throw new TargetException(TargetErrorKind.NoSpace, $"cannot write {DisplayName}/{name}: no space left on the device");
        }
    }

    private void Transient(string name)
    {
        Interlocked.Increment(ref Operations);
        if (name.StartsWith(FailPrefix, StringComparison.Ordinal) && Interlocked.Decrement(ref _transientLeft) >= 0)
        {
            throw new TargetException(TargetErrorKind.Unavailable, $"{DisplayName}/{name}: injected transient failure");
        }
    }
}
