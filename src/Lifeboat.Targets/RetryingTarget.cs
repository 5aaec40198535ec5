using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Lifeboat.Targets;

/// <summary>Retry policy for transient target failures: exponential backoff with jitter.</summary>
public sealed record RetryOptions
{
    public int MaxAttempts { get; init; } = 6;

    public TimeSpan FirstDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public static RetryOptions None { get; } = new() { MaxAttempts = 1 };
}

/// <summary>
/// Retries operations that failed with a transient <see cref="TargetException"/> (Polly: exponential backoff,
/// jitter). Permanent failures pass through at once. Uploads are retried from a re-readable
/// <see cref="ObjectSource"/>, so a retry sends identical bytes.
/// </summary>
public sealed partial class RetryingTarget : ITarget
{
    private readonly ITarget _inner;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;

    public RetryingTarget(ITarget inner, RetryOptions options, ILogger logger, TimeProvider timeProvider)
    {
        _inner = inner;
        _logger = logger;
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider };
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<TargetException>(e => e.IsTransient),
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.FirstDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    // AttemptNumber is the zero-based number of the attempt that failed; the log names the next one, 1-based
                    // (the first retry is attempt 2 of MaxAttempts).
                    LogRetry(_logger, _inner.DisplayName, args.AttemptNumber + 2, args.RetryDelay, args.Outcome.Exception?.Message ?? "failure");
                    return default;
                },
            });
        }

        _pipeline = builder.Build();
    }

    public string DisplayName => _inner.DisplayName;

    public TargetCapabilities Capabilities => _inner.Capabilities;

    public ITarget Inner => _inner;

    public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(ct => new ValueTask(_inner.SaveAsync(name, content, mode, ct)), cancellationToken).AsTask();

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(ct => new ValueTask(_inner.SaveFileAsync(name, path, mode, ct)), cancellationToken).AsTask();

    public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(ct => new ValueTask(_inner.LoadAsync(name, offset, length, consumer, ct)), cancellationToken).AsTask();

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(ct => new ValueTask<ObjectInfo?>(_inner.StatAsync(name, ct)), cancellationToken).AsTask();

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A listing is retried whole; it is materialised so that a retry never yields an object twice.
        var all = await _pipeline.ExecuteAsync(
            async ct =>
            {
                var list = new List<ObjectInfo>();
                await foreach (var item in _inner.ListAsync(prefix, ct))
                {
                    list.Add(item);
                }

                return list;
            },
            cancellationToken);
        foreach (var item in all)
        {
            yield return item;
        }
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
        => _pipeline.ExecuteAsync(ct => new ValueTask(_inner.DeleteAsync(name, ct)), cancellationToken).AsTask();

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Target {Target}: attempt {Attempt} in {Delay} after a transient failure: {Error}")]
    private static partial void LogRetry(ILogger logger, string target, int attempt, TimeSpan delay, string error);
}
