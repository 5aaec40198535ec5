using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Targets.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer started on it, so a test can wait until the code under
/// test waits (a retry backoff) and only then move the clock: no real sleeps, no race between advancing and waiting.
/// </summary>
internal sealed class WatchedTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _started = Channel.CreateUnbounded<TimeSpan>();
    private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

    /// <summary>The due time of every timer started so far.</summary>
    public IReadOnlyList<TimeSpan> DueTimes => _dueTimes.ToArray();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _dueTimes.Enqueue(dueTime);
        _started.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits until a timer is started and returns its due time, without moving the clock.</summary>
    public async Task<TimeSpan> WaitForTimerAsync(CancellationToken cancellationToken) => await _started.Reader.ReadAsync(cancellationToken);

    /// <summary>Waits until a timer is started, then moves the clock to its due time so that it fires.</summary>
    public async Task<TimeSpan> AdvancePastNextTimerAsync(CancellationToken cancellationToken)
    {
        var due = await WaitForTimerAsync(cancellationToken);
        Advance(due);
        return due;
    }
}

/// <summary>A logger that keeps what is logged.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries => _entries.ToArray();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => _entries.Enqueue((logLevel, eventId, formatter(state, exception)));
}

/// <summary>
/// A target whose every operation waits at a gate until the test lets it through, and which records how many
/// operations are inside it at once. Saves, stats and deletes do nothing else; listings yield <see cref="Listing"/>.
/// </summary>
internal sealed class GatedTarget : ITarget
{
    private readonly SemaphoreSlim _gate = new(0);
    private readonly Channel<string> _entered = Channel.CreateUnbounded<string>();
    private int _inFlight;
    private int _maxInFlight;
    private int _enteredCount;

    public string DisplayName => "gated://test";

    public TargetCapabilities Capabilities { get; } = new(AtomicCreate: true, DefaultConcurrency: 2, IsLocal: false);

    public IReadOnlyList<ObjectInfo> Listing { get; init; } = [new("data/ab/ab01", 1), new("data/ab/ab02", 2), new("data/ab/ab03", 3)];

    /// <summary>When set, an operation throws this after passing the gate (once; the next one succeeds).</summary>
    public Exception? FailNext { get; set; }

    public int InFlight => Volatile.Read(ref _inFlight);

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int EnteredCount => Volatile.Read(ref _enteredCount);

    /// <summary>Lets <paramref name="count"/> waiting (or future) operations through the gate.</summary>
    public void Open(int count = 1) => _gate.Release(count);

    /// <summary>Waits until an operation is inside the target and returns its name.</summary>
    public async Task<string> NextEnteredAsync(CancellationToken cancellationToken) => await _entered.Reader.ReadAsync(cancellationToken);

    public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken) => PassAsync("save", cancellationToken);

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken) => PassAsync("save-file", cancellationToken);

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        await PassAsync("load", cancellationToken);
        await consumer(new MemoryStream([1, 2, 3]), cancellationToken);
    }

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        await PassAsync("stat", cancellationToken);
        return new ObjectInfo(name, 1);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await PassAsync("list", cancellationToken);
        foreach (var item in Listing)
        {
            yield return item;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken) => PassAsync("delete", cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task PassAsync(string operation, CancellationToken cancellationToken)
    {
        var now = Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref _enteredCount);
        for (var max = Volatile.Read(ref _maxInFlight); now > max && Interlocked.CompareExchange(ref _maxInFlight, now, max) != max; max = Volatile.Read(ref _maxInFlight))
        {
        }

        _entered.Writer.TryWrite(operation);
        try
        {
            await _gate.WaitAsync(cancellationToken);
            if (FailNext is { } failure)
            {
                FailNext = null;
                throw failure;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}

/// <summary>A target that only lists: each listing is produced by the next function in <see cref="Attempts"/>.</summary>
internal sealed class ScriptedListingTarget : ITarget
{
    private int _calls;

    public required IReadOnlyList<Func<IAsyncEnumerable<ObjectInfo>>> Attempts { get; init; }

    public int Calls => Volatile.Read(ref _calls);

    public string DisplayName => "scripted://test";

    public TargetCapabilities Capabilities { get; } = new(AtomicCreate: false, DefaultConcurrency: 1, IsLocal: false);

    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken)
        => Attempts[Interlocked.Increment(ref _calls) - 1]();

    public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

    public Task DeleteAsync(string name, CancellationToken cancellationToken) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
