using Lifeboat.Targets.Local;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lifeboat.Targets.Tests;

public sealed class RetryingTargetTests : IAsyncDisposable
{
    private static readonly RetryOptions Options = new() { MaxAttempts = 4, FirstDelay = TimeSpan.FromMilliseconds(500), MaxDelay = TimeSpan.FromSeconds(30) };

    private readonly TempDir _dir = new("lifeboat-retry-");
    private readonly LocalTarget _local;
    private readonly FaultyTarget _faulty;
    private readonly WatchedTimeProvider _time = new();

    public RetryingTargetTests()
    {
        _local = new LocalTarget(_dir.Combine("repo")).WithRootCreated();
        _faulty = new FaultyTarget(_local);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        await _faulty.DisposeAsync();
        _dir.Dispose();
    }

    private RetryingTarget Retrying(RetryOptions? options = null, ILogger? logger = null)
        => new(_faulty, options ?? Options, logger ?? NullLogger.Instance, _time);

    [Fact]
    public async Task Transient_failures_are_retried_until_the_operation_succeeds()
    {
        await _local.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1, 2, 3 }), SaveMode.Create, Ct);
        _faulty.TransientFailures = 2;

        var stat = Retrying().StatAsync("config", Ct);
        await _time.AdvancePastNextTimerAsync(Ct);
        await _time.AdvancePastNextTimerAsync(Ct);

        Assert.Equal(new ObjectInfo("config", 3), await stat);
        Assert.Equal(3, _faulty.Operations);
        Assert.Equal(2, _time.DueTimes.Count);
    }

    [Fact]
    public async Task A_save_that_failed_transiently_is_stored_once_by_a_retry()
    {
        var bytes = TestData.Random(100_000, seed: 1);
        _faulty.TransientFailures = 1;

        var save = Retrying().SaveAsync("data/ab/ab01", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        await _time.AdvancePastNextTimerAsync(Ct);
        await save;

        Assert.Equal(2, _faulty.Operations);
        Assert.Equal(bytes, await _local.ReadAllAsync("data/ab/ab01", Ct));
        Assert.Equal(["data/ab/ab01"], (await _local.ListAllAsync("", Ct)).Select(o => o.Name));
    }

    [Fact]
    public async Task A_permanent_failure_is_not_retried()
    {
        var error = await Assert.ThrowsAsync<TargetException>(() => Retrying().ReadAllAsync("config", Ct));

        Assert.Equal(TargetErrorKind.NotFound, error.Kind);
        Assert.Equal(1, _faulty.Operations);
        Assert.Empty(_time.DueTimes);
    }

    [Fact]
    public async Task An_existing_object_is_not_retried_by_a_create()
    {
        await _local.SaveAsync("keys/k1", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => Retrying().SaveAsync("keys/k1", ObjectSource.FromBytes(new byte[] { 2 }), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(1, _faulty.Operations);
        Assert.Empty(_time.DueTimes);
    }

    [Fact]
    public async Task A_failure_that_is_not_a_target_error_is_not_retried()
    {
        await _local.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct);
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidDataException>(() => Retrying().LoadAsync(
            "config",
            0,
            -1,
            (_, _) =>
            {
                attempts++;
                throw new InvalidDataException("the configuration was modified");
            },
            Ct));

        Assert.Equal(1, attempts);
        Assert.Empty(_time.DueTimes);
    }

    [Fact]
    public async Task After_the_last_attempt_the_transient_error_surfaces()
    {
        _faulty.TransientFailures = 100;

        var stat = Retrying().StatAsync("config", Ct);
        for (var retry = 1; retry < Options.MaxAttempts; retry++)
        {
            await _time.AdvancePastNextTimerAsync(Ct);
        }

        var error = await Assert.ThrowsAsync<TargetException>(() => stat);
        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.Equal($"{_local.DisplayName}/config: injected transient failure", error.Message);
        Assert.Equal(Options.MaxAttempts, _faulty.Operations);
        Assert.Equal(Options.MaxAttempts - 1, _time.DueTimes.Count);
    }

    [Fact]
    public async Task Without_retries_a_transient_failure_surfaces_at_once()
    {
        _faulty.TransientFailures = 1;

        var error = await Assert.ThrowsAsync<TargetException>(() => Retrying(RetryOptions.None).StatAsync("config", Ct));

        Assert.True(error.IsTransient);
        Assert.Equal(1, _faulty.Operations);
        Assert.Empty(_time.DueTimes);
    }

    [Fact]
    public async Task Backoff_delays_are_positive_and_never_longer_than_the_maximum()
    {
        var options = new RetryOptions { MaxAttempts = 10, FirstDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5) };
        _faulty.TransientFailures = 100;

        var stat = Retrying(options).StatAsync("config", Ct);
        for (var retry = 1; retry < options.MaxAttempts; retry++)
        {
            await _time.AdvancePastNextTimerAsync(Ct);
        }

        await Assert.ThrowsAsync<TargetException>(() => stat);
        Assert.Equal(9, _time.DueTimes.Count);
        Assert.All(_time.DueTimes, delay => Assert.InRange(delay, TimeSpan.FromTicks(1), options.MaxDelay));
        // Exponential: by the last attempts the backoff has grown well past the first delay.
        Assert.True(_time.DueTimes[^1] > options.FirstDelay, string.Join(", ", _time.DueTimes));
    }

    [Fact]
    public async Task Each_retry_is_logged_as_a_warning_naming_the_target_and_the_error()
    {
        var logger = new ListLogger();
        _faulty.TransientFailures = 2;

        var stat = Retrying(logger: logger).StatAsync("config", Ct);
        await _time.AdvancePastNextTimerAsync(Ct);
        await _time.AdvancePastNextTimerAsync(Ct);
        await stat;

        Assert.Collection(
            logger.Entries,
            e =>
            {
                Assert.Equal((LogLevel.Warning, 1001), (e.Level, e.Id.Id));
                Assert.StartsWith($"Target {_local.DisplayName}: attempt 2 in ", e.Message);
                Assert.EndsWith($" after a transient failure: {_local.DisplayName}/config: injected transient failure", e.Message);
            },
            e =>
            {
                Assert.Equal((LogLevel.Warning, 1001), (e.Level, e.Id.Id));
                Assert.StartsWith($"Target {_local.DisplayName}: attempt 3 in ", e.Message);
            });
    }

    [Fact]
    public async Task Cancelling_during_the_backoff_stops_the_retries()
    {
        _faulty.TransientFailures = 100;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var stat = Retrying().StatAsync("config", cancel.Token);
        await _time.WaitForTimerAsync(Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stat);
        Assert.Equal(1, _faulty.Operations);
    }

    [Fact]
    public async Task A_retried_load_hands_the_consumer_a_fresh_stream_from_the_start()
    {
        var bytes = TestData.Random(300_000, seed: 2);
        await _local.SaveAsync("index/ix01", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        var dropping = new DropsFirstDownloadTarget(_local, failAfter: 100_000);
        var retrying = new RetryingTarget(dropping, Options, NullLogger.Instance, _time);

        var load = retrying.ReadAllAsync("index/ix01", Ct);
        await _time.AdvancePastNextTimerAsync(Ct);

        Assert.Equal(bytes, await load);
        Assert.Equal(2, dropping.Loads);
    }

    [Fact]
    public async Task A_listing_is_retried_whole_and_never_yields_an_object_twice()
    {
        static async IAsyncEnumerable<ObjectInfo> Items(int count, bool failAtEnd)
        {
            for (var i = 1; i <= count; i++)
            {
                await Task.Yield();
                yield return new ObjectInfo($"index/ix0{i}", i);
            }

            if (failAtEnd)
            {
                throw new TargetException(TargetErrorKind.Unavailable, "scripted://test: the listing was cut off");
            }
        }

        var inner = new ScriptedListingTarget { Attempts = [() => Items(2, failAtEnd: true), () => Items(3, failAtEnd: false)] };
        var retrying = new RetryingTarget(inner, Options, NullLogger.Instance, _time);

        var listing = retrying.ListAllAsync("index/", Ct);
        await _time.AdvancePastNextTimerAsync(Ct);

        Assert.Equal(["index/ix01", "index/ix02", "index/ix03"], (await listing).Select(o => o.Name));
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public void The_retrying_target_shows_the_inner_target_name_and_capabilities()
    {
        var retrying = Retrying();

        Assert.Equal(_local.DisplayName, retrying.DisplayName);
        Assert.Same(_local.Capabilities, retrying.Capabilities);
        Assert.Same(_faulty, retrying.Inner);
    }

    /// <summary>Breaks the first download part way (a connection reset while the consumer reads).</summary>
    private sealed class DropsFirstDownloadTarget(ITarget inner, int failAfter) : ITarget
    {
        private int _loads;

        public int Loads => Volatile.Read(ref _loads);

        public string DisplayName => inner.DisplayName;

        public TargetCapabilities Capabilities => inner.Capabilities;

        public Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _loads) > 1)
            {
                return inner.LoadAsync(name, offset, length, consumer, cancellationToken);
            }

            return inner.LoadAsync(name, offset, length, (stream, ct) => consumer(new DroppingStream(stream, failAfter), ct), cancellationToken);
        }

        public Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken) => inner.SaveAsync(name, content, mode, cancellationToken);

        public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken) => inner.SaveFileAsync(name, path, mode, cancellationToken);

        public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken) => inner.StatAsync(name, cancellationToken);

        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken cancellationToken) => inner.ListAsync(prefix, cancellationToken);

        public Task DeleteAsync(string name, CancellationToken cancellationToken) => inner.DeleteAsync(name, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class DroppingStream(Stream inner, int failAfter) : Stream
        {
            private int _read;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position
            {
                get => _read;
                set => throw new NotSupportedException();
            }

            public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

            public override int Read(Span<byte> buffer)
            {
                if (_read >= failAfter)
                {
                    throw new TargetException(TargetErrorKind.Unavailable, "the connection was reset (injected)");
                }

                var n = inner.Read(buffer[..Math.Min(buffer.Length, failAfter - _read)]);
                _read += n;
                return n;
            }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                if (_read >= failAfter)
                {
                    throw new TargetException(TargetErrorKind.Unavailable, "the connection was reset (injected)");
                }

                var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, failAfter - _read)], cancellationToken);
                _read += n;
                return n;
            }

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
                => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();

            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
