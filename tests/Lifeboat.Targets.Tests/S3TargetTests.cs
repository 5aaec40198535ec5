using System.Security.Cryptography;
using Lifeboat.Targets.S3;

namespace Lifeboat.Targets.Tests;

/// <summary>What only an S3 target does: credentials, buckets, conditional writes, a server that goes away mid-upload.</summary>
public sealed class S3TargetTests(S3rverFixture fixture) : IClassFixture<S3rverFixture>
{
    private const string CredentialsHint = "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile) used for this target, and the region";
    private readonly string _prefix = "s3-tests-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Credentials s3rver does not know (it checks the access key id; it does not verify SigV4 signatures).</summary>
    private static Dictionary<string, string?> WrongCredentials(out string secret)
    {
        secret = "wrong-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        return new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "AKIA" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)), ["AWS_SECRET_ACCESS_KEY"] = secret };
    }

    [Fact]
    public async Task Wrong_credentials_fail_at_once_with_exit_code_2_naming_the_target_and_never_the_secret()
    {
        var server = fixture.Require();
        var environment = WrongCredentials(out var secret);
        var logger = new ListLogger();
        await using var target = TargetFactory.Open(server.Url(_prefix), new TargetOpenOptions { Environment = environment, Logger = logger });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("config", ObjectSource.FromBytes(TestData.Random(100, seed: 1)), SaveMode.Replace, Ct));

        Assert.Equal(TargetErrorKind.AuthenticationFailed, error.Kind);
        Assert.False(error.IsTransient);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"s3://lifeboat-tests/{_prefix}: http://127.0.0.1:{server.Port} refused the credentials (InvalidAccessKeyId)", error.Message);
        Assert.Equal(CredentialsHint, error.Hint);
        Assert.DoesNotContain(secret, error.Message + error.Hint, StringComparison.Ordinal);
        Assert.DoesNotContain(environment["AWS_ACCESS_KEY_ID"]!, error.Message + error.Hint, StringComparison.Ordinal);
        Assert.Empty(logger.Entries); // a permanent failure is not retried
    }

    [Fact]
    public async Task A_refused_stat_says_that_credentials_or_permissions_are_wrong_since_a_HEAD_answer_has_no_error_code()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix), WrongCredentials(out _));

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.AccessDenied, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"cannot stat s3://lifeboat-tests/{_prefix}/config: http://127.0.0.1:{server.Port} answered 403 Forbidden (the credentials were refused, or they lack a permission)", error.Message);
    }

    [Fact]
    public async Task A_missing_bucket_is_a_configuration_error_naming_it()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix).Replace("s3://lifeboat-tests/", "s3://no-such-bucket/", StringComparison.Ordinal), server.Environment);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.ListAllAsync("", Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"s3://no-such-bucket/{_prefix}: the bucket 'no-such-bucket' does not exist on http://127.0.0.1:{server.Port}", error.Message);
        Assert.Equal("create the bucket, or correct the bucket name or the endpoint in the URL", error.Hint);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_a_transient_failure()
    {
        var port = PeerPaths.FreeLoopbackPort();
        await using var target = TargetFactory.OpenRaw($"s3://lifeboat-tests/x?endpoint=http://127.0.0.1:{port}&path-style=true", new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "a", ["AWS_SECRET_ACCESS_KEY"] = "b" });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.StartsWith($"cannot stat s3://lifeboat-tests/x/config: http://127.0.0.1:{port} could not be reached: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_a_server_that_ignores_If_None_Match_a_create_checks_first_and_does_not_claim_to_be_atomic()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix), server.Environment);
        await target.SaveAsync("locks/l1", ObjectSource.FromBytes(TestData.Random(10, seed: 2)), SaveMode.Create, Ct);

        var second = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("locks/l1", ObjectSource.FromBytes(TestData.Random(10, seed: 3)), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.AlreadyExists, second.Kind);
        Assert.False(target.Capabilities.AtomicCreate);
        Assert.False(await ((S3Target)target).ConditionalWritesAsync(Ct));
        // The probe object stays on the server but, named like a temporary object, is never listed.
        Assert.Equal(["locks/l1"], (await target.ListAllAsync("", Ct)).Select(o => o.Name));
    }

    [Fact]
    public async Task A_large_object_goes_up_in_parts_and_is_visible_only_when_complete()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix), server.Environment);
        var bytes = TestData.Random(S3Target.MultipartThreshold + S3Target.PartSize + 5, seed: 4);
        var source = new PausingSource(bytes, pauseAt: S3Target.PartSize + 1);

        var save = target.SaveAsync("data/ab/large", source, SaveMode.Create, Ct);
        await source.Paused.WaitAsync(Ct);

        // The first part is on the server, the upload not complete: nothing is visible.
        Assert.Single(server.IncompleteUploads(_prefix + "/"));
        Assert.Null(await target.StatAsync("data/ab/large", Ct));
        source.Resume();
        await save;

        Assert.Equal(bytes, await target.ReadAllAsync("data/ab/large", Ct));
        Assert.Empty(server.IncompleteUploads(_prefix + "/"));
    }

    [Fact]
    public async Task When_the_server_stops_mid_upload_the_retry_decorator_completes_the_save_once_it_is_back()
    {
        var ct = Ct;
        await using var server = await S3rverServer.StartAsync("lifeboat-restart", ct);
        var time = new WatchedTimeProvider();
        var logger = new ListLogger();
        await using var target = TargetFactory.Open(server.Url("repo"), new TargetOpenOptions
        {
            Environment = server.Environment,
            TimeProvider = time,
            Logger = logger,
            Retry = new RetryOptions { MaxAttempts = 4, FirstDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5) },
        });
        var bytes = TestData.Random(S3Target.MultipartThreshold + S3Target.PartSize + 5, seed: 5);
        var source = new PausingSource(bytes, pauseAt: S3Target.PartSize + 1);

        var save = target.SaveAsync("data/c4/c4fe", source, SaveMode.Create, ct);
        await source.Paused.WaitAsync(ct);
        await server.StopAsync();
        source.Resume();

        // The second part fails (connection refused): the decorator waits before the next attempt. The server comes back
        // on the same port meanwhile, and the next attempt sends the whole object again.
        await time.WaitForTimerAsync(ct);
        await server.RestartAsync(ct);
        time.Advance(TimeSpan.FromSeconds(10));
        await save;

        Assert.Equal(2, source.Opens);
        Assert.Equal(bytes, await target.ReadAllAsync("data/c4/c4fe", ct));
        Assert.Equal(["data/c4/c4fe"], (await target.ListAllAsync("", ct)).Select(o => o.Name));
        var retry = Assert.Single(logger.Entries);
        Assert.StartsWith("Target s3://lifeboat-restart/repo: attempt 2 in ", retry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_server_stays_away_the_save_fails_after_the_retry_budget_and_leaves_no_visible_object()
    {
        var ct = Ct;
        await using var server = await S3rverServer.StartAsync("lifeboat-gone", ct);
        var time = new WatchedTimeProvider();
        await using var target = TargetFactory.Open(server.Url("repo"), new TargetOpenOptions
        {
            Environment = server.Environment,
            TimeProvider = time,
            Retry = new RetryOptions { MaxAttempts = 3, FirstDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5) },
        });
        var bytes = TestData.Random(S3Target.MultipartThreshold + 1, seed: 6);
        var source = new PausingSource(bytes, pauseAt: S3Target.PartSize + 1);

        var save = target.SaveAsync("data/c4/c4fe", source, SaveMode.Create, ct);
        await source.Paused.WaitAsync(ct);
        await server.StopAsync();
        source.Resume();
        for (var retry = 0; retry < 2; retry++)
        {
            await time.WaitForTimerAsync(ct);
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var error = await Assert.ThrowsAsync<TargetException>(() => save);

        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.Equal(1, error.ExitCode);
        Assert.Contains($"http://127.0.0.1:{server.Port} could not be reached", error.Message, StringComparison.Ordinal);
        await server.RestartAsync(ct);
        Assert.Null(await target.StatAsync("data/c4/c4fe", ct));
        Assert.Empty(await target.ListAllAsync("", ct));
    }
}

/// <summary>
/// Content whose first reading pauses at a byte offset until the test resumes it (the upload is then known to be in
/// progress, with everything before that offset sent); later readings run through.
/// </summary>
internal sealed class PausingSource : ObjectSource
{
    private readonly byte[] _bytes;
    private readonly int _pauseAt;
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _opens;

    public PausingSource(byte[] bytes, int pauseAt)
    {
        _bytes = bytes;
        _pauseAt = pauseAt;
    }

    public Task Paused => _paused.Task;

    public int Opens => Volatile.Read(ref _opens);

    public override long Length => _bytes.Length;

    public void Resume() => _resume.TrySetResult();

    public override Stream OpenRead()
        => Interlocked.Increment(ref _opens) == 1 ? new PausingStream(this) : new ReadOnlyMemoryStream(_bytes);

    private sealed class PausingStream(PausingSource source) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => source.Length;

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == source._pauseAt)
            {
                source._paused.TrySetResult();
                await source._resume.Task.WaitAsync(cancellationToken);
            }

            var end = _position < source._pauseAt ? source._pauseAt : source._bytes.Length;
            var n = Math.Min(buffer.Length, end - _position);
            source._bytes.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
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
