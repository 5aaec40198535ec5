using System.Security.Cryptography;
using Lifeboat.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lifeboat.Targets.Tests;

/// <summary>
/// What every <see cref="ITarget"/> must do (repository format, sections 2 and 12; STYLE.md rule 15), written against
/// the interface alone. Derive it once per kind of target: the derived class starts what the target needs (a server on
/// loopback, a bucket, a directory), skips through <see cref="Peers.Require"/> when a peer is missing, and hands each
/// test a fresh, empty target.
/// </summary>
/// <remarks>
/// xunit creates one instance per test, so every test gets its own target from <see cref="CreateTargetAsync"/> and the
/// target is disposed after it. Tests must not depend on each other or on timing.
/// </remarks>
public abstract class TargetConformanceTests : IAsyncLifetime
{
    private ITarget? _target;

    /// <summary>The target under test, fresh and empty for each test.</summary>
    protected ITarget Target => _target ?? throw new InvalidOperationException("the target is created in InitializeAsync");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Creates a fresh, empty target. Call <see cref="Peers.Require"/> here to skip when a peer is missing.</summary>
    protected abstract ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="CreateTargetAsync"/> set up besides the target; runs after the target is disposed.</summary>
    protected virtual ValueTask DisposeEnvironmentAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Asserts that a failed or cancelled upload left nothing behind that a reader could mistake for an object or that
    /// costs space: temporary files of a local target, incomplete multipart uploads of an object store.
    /// </summary>
    protected virtual ValueTask AssertNoUploadLeftoversAsync() => ValueTask.CompletedTask;

    /// <summary>How error messages name an object of this target.</summary>
    protected virtual string Describe(string name) => $"{Target.DisplayName}/{name}";

    public async ValueTask InitializeAsync() => _target = await CreateTargetAsync(Ct);

    public async ValueTask DisposeAsync()
    {
        if (_target is not null)
        {
            await _target.DisposeAsync();
        }

        await DisposeEnvironmentAsync();
        GC.SuppressFinalize(this);
    }

    private Task SaveAsync(string name, byte[] bytes, SaveMode mode = SaveMode.Create)
        => Target.SaveAsync(name, ObjectSource.FromBytes(bytes), mode, Ct);

    private async Task<List<string>> NamesAsync(string prefix)
        => (await Target.ListAllAsync(prefix, Ct)).Select(o => o.Name).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Save_then_load_returns_identical_bytes()
    {
        var bytes = TestData.Random(100_000, seed: 1);

        await SaveAsync("config", bytes);

        Assert.Equal(bytes, await Target.ReadAllAsync("config", Ct));
    }

    [Fact]
    public async Task An_empty_object_round_trips_with_size_zero()
    {
        await SaveAsync("locks/empty", []);

        Assert.Empty(await Target.ReadAllAsync("locks/empty", Ct));
        Assert.Equal(new ObjectInfo("locks/empty", 0), await Target.StatAsync("locks/empty", Ct));
    }

    [Theory]
    [InlineData(0L, 1)]
    [InlineData(0L, 10_000)]
    [InlineData(1234L, 4321)]
    [InlineData(9998L, 2)]
    [InlineData(9999L, 1)]
    public async Task A_range_read_returns_exactly_the_bytes_asked_for(long offset, int length)
    {
        var bytes = TestData.Random(10_000, seed: 2);
        await SaveAsync("data/ab/pack", bytes);

        var range = await Target.ReadRangeAsync("data/ab/pack", offset, length, Ct);

        Assert.Equal(bytes.AsSpan((int)offset, length).ToArray(), range);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(5000L)]
    [InlineData(9999L)]
    [InlineData(10_000L)]
    public async Task A_read_with_a_negative_length_returns_everything_from_the_offset(long offset)
    {
        var bytes = TestData.Random(10_000, seed: 3);
        await SaveAsync("data/ab/pack", bytes);

        byte[]? read = null;
        await Target.LoadAsync(
            "data/ab/pack",
            offset,
            -1,
            async (stream, ct) =>
            {
                using var buffer = new MemoryStream();
                await stream.CopyToAsync(buffer, ct);
                read = buffer.ToArray();
            },
            Ct);

        Assert.Equal(bytes.AsSpan((int)offset).ToArray(), read);
    }

    [Theory]
    [InlineData(9990L, 11L)]
    [InlineData(9999L, 2L)]
    [InlineData(10_000L, 1L)]
    [InlineData(20_000L, 100L)]
    public async Task A_range_read_past_the_end_fails_permanently(long offset, long length)
    {
        await SaveAsync("data/ab/pack", TestData.Random(10_000, seed: 4));

        // The consumer takes what it gets: the target itself must refuse, a short read is not enough.
        var error = await Assert.ThrowsAsync<TargetException>(() => Target.LoadAsync(
            "data/ab/pack",
            offset,
            length,
            async (stream, ct) => await stream.CopyToAsync(Stream.Null, ct),
            Ct));

        // Objects never change: asking again cannot succeed.
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Loading_a_missing_object_is_a_permanent_not_found_error()
    {
        var consumerCalled = false;

        var error = await Assert.ThrowsAsync<TargetException>(() => Target.LoadAsync(
            "backups/20261122-140300-3f9a",
            0,
            -1,
            (_, _) =>
            {
                consumerCalled = true;
                return Task.CompletedTask;
            },
            Ct));

        Assert.Equal(TargetErrorKind.NotFound, error.Kind);
        Assert.False(error.IsTransient);
        Assert.Equal(ErrorCode.NotFound, error.Code);
        Assert.Equal($"{Describe("backups/20261122-140300-3f9a")} does not exist", error.Message);
        Assert.False(consumerCalled);
    }

    [Fact]
    public async Task Loading_a_range_of_a_missing_object_is_a_not_found_error()
    {
        var error = await Assert.ThrowsAsync<TargetException>(() => Target.ReadRangeAsync("data/ab/missing", 10, 10, Ct));

        Assert.Equal(TargetErrorKind.NotFound, error.Kind);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task Stat_of_a_missing_object_returns_null()
    {
        Assert.Null(await Target.StatAsync("config", Ct));
        Assert.Null(await Target.StatAsync("data/ab/missing", Ct));
    }

    [Fact]
    public async Task Stat_returns_the_name_and_size_of_an_object()
    {
        await SaveAsync("index/0123", TestData.Random(4321, seed: 5));

        Assert.Equal(new ObjectInfo("index/0123", 4321), await Target.StatAsync("index/0123", Ct));
    }

    [Fact]
    public async Task A_name_that_is_only_the_prefix_of_other_objects_is_not_an_object()
    {
        await SaveAsync("data/ab/pack", TestData.Random(100, seed: 6));

        Assert.Null(await Target.StatAsync("data/ab", Ct));
        var error = await Assert.ThrowsAsync<TargetException>(() => Target.ReadAllAsync("data/ab", Ct));
        Assert.Equal(TargetErrorKind.NotFound, error.Kind);
        Assert.Equal($"{Describe("data/ab")} does not exist", error.Message);
    }

    [Fact]
    public async Task Deleting_a_name_that_is_only_the_prefix_of_other_objects_deletes_nothing()
    {
        await SaveAsync("data/ab/pack", TestData.Random(100, seed: 41));

        await Target.DeleteAsync("data/ab", Ct);
        await Target.DeleteAsync("data", Ct);

        Assert.Equal(["data/ab/pack"], await NamesAsync(""));
    }

    [Fact]
    public async Task Listing_by_prefix_returns_only_the_objects_whose_names_start_with_it()
    {
        await SaveAsync("config", TestData.Random(10, seed: 7));
        await SaveAsync("data/ab/ab01", TestData.Random(11, seed: 8));
        await SaveAsync("data/ab/ab02", TestData.Random(12, seed: 9));
        await SaveAsync("data/abc/abc1", TestData.Random(13, seed: 10));
        await SaveAsync("data/cd/cd01", TestData.Random(14, seed: 11));
        await SaveAsync("dataset", TestData.Random(15, seed: 12));
        await SaveAsync("index/ix01", TestData.Random(16, seed: 13));

        Assert.Equal(["data/ab/ab01", "data/ab/ab02", "data/abc/abc1", "data/cd/cd01"], await NamesAsync("data/"));
        Assert.Equal(["data/ab/ab01", "data/ab/ab02"], await NamesAsync("data/ab/"));
        Assert.Equal(["data/ab/ab01", "data/ab/ab02", "data/abc/abc1"], await NamesAsync("data/ab"));
        Assert.Equal(["data/ab/ab02"], await NamesAsync("data/ab/ab02"));
        Assert.Equal(["data/ab/ab01", "data/ab/ab02", "data/abc/abc1", "data/cd/cd01", "dataset"], await NamesAsync("data"));
        Assert.Equal(["index/ix01"], await NamesAsync("index/"));
        Assert.Empty(await NamesAsync("keys/"));
        Assert.Empty(await NamesAsync("data/ef/"));
    }

    [Fact]
    public async Task Listing_reports_the_size_of_each_object()
    {
        await SaveAsync("data/ab/ab01", TestData.Random(11, seed: 14));
        await SaveAsync("data/ab/ab02", []);
        await SaveAsync("data/cd/cd01", TestData.Random(70_000, seed: 15));

        var listed = (await Target.ListAllAsync("data/", Ct)).OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

        Assert.Equal([new ObjectInfo("data/ab/ab01", 11), new ObjectInfo("data/ab/ab02", 0), new ObjectInfo("data/cd/cd01", 70_000)], listed);
    }

    [Fact]
    public async Task Listing_with_an_empty_prefix_returns_every_object()
    {
        string[] names = ["config", "data/ab/ab01", "data/cd/cd01", "index/ix01", "keys/k1", "locks/l1", "wal/main/000000010000000000000001"];
        foreach (var name in names)
        {
            await SaveAsync(name, TestData.Random(8, seed: name.Length));
        }

        Assert.Equal(names, await NamesAsync(""));
    }

    [Fact]
    public async Task Listing_an_empty_target_returns_nothing()
    {
        Assert.Empty(await NamesAsync(""));
        Assert.Empty(await NamesAsync("data/"));
    }

    [Fact]
    public async Task A_deleted_object_is_gone_and_its_neighbours_stay()
    {
        await SaveAsync("locks/mine", TestData.Random(10, seed: 16));
        await SaveAsync("locks/other", TestData.Random(10, seed: 17));

        await Target.DeleteAsync("locks/mine", Ct);

        Assert.Null(await Target.StatAsync("locks/mine", Ct));
        var error = await Assert.ThrowsAsync<TargetException>(() => Target.ReadAllAsync("locks/mine", Ct));
        Assert.Equal(TargetErrorKind.NotFound, error.Kind);
        Assert.Equal(["locks/other"], await NamesAsync("locks/"));
    }

    [Fact]
    public async Task Deleting_a_missing_object_succeeds()
    {
        await Target.DeleteAsync("locks/never-written", Ct);
        await Target.DeleteAsync("data/zz/never-written", Ct);

        await SaveAsync("locks/once", TestData.Random(10, seed: 18));
        await Target.DeleteAsync("locks/once", Ct);
        await Target.DeleteAsync("locks/once", Ct);

        Assert.Empty(await NamesAsync(""));
    }

    [Fact]
    public async Task A_deleted_name_can_be_created_again()
    {
        await SaveAsync("locks/l1", TestData.Random(10, seed: 19));
        await Target.DeleteAsync("locks/l1", Ct);

        var second = TestData.Random(20, seed: 20);
        await SaveAsync("locks/l1", second);

        Assert.Equal(second, await Target.ReadAllAsync("locks/l1", Ct));
    }

    [Fact]
    public async Task Create_of_an_existing_name_fails_with_AlreadyExists_and_keeps_the_old_content()
    {
        var first = TestData.Random(1000, seed: 21);
        var second = TestData.Random(2000, seed: 22);
        await SaveAsync("wal/main/000000010000000000000001", first);

        var error = await Assert.ThrowsAsync<TargetException>(() => SaveAsync("wal/main/000000010000000000000001", second));

        Assert.Equal(TargetErrorKind.AlreadyExists, error.Kind);
        Assert.False(error.IsTransient);
        Assert.Equal($"{Describe("wal/main/000000010000000000000001")} already exists", error.Message);
        Assert.Equal(first, await Target.ReadAllAsync("wal/main/000000010000000000000001", Ct));
        Assert.Equal(["wal/main/000000010000000000000001"], await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();
    }

    [Fact]
    public async Task Replace_replaces_the_content_of_an_existing_object()
    {
        await SaveAsync("locks/l1", TestData.Random(5000, seed: 23));
        var longer = TestData.Random(9000, seed: 24);
        var shorter = TestData.Random(100, seed: 25);

        await SaveAsync("locks/l1", longer, SaveMode.Replace);
        Assert.Equal(longer, await Target.ReadAllAsync("locks/l1", Ct));

        // Nothing of the longer content may remain after it.
        await SaveAsync("locks/l1", shorter, SaveMode.Replace);
        Assert.Equal(shorter, await Target.ReadAllAsync("locks/l1", Ct));
        Assert.Equal(new ObjectInfo("locks/l1", 100), await Target.StatAsync("locks/l1", Ct));
        Assert.Equal(["locks/l1"], await NamesAsync(""));
    }

    [Fact]
    public async Task Replace_creates_a_missing_object()
    {
        var bytes = TestData.Random(300, seed: 26);

        await SaveAsync("locks/l1", bytes, SaveMode.Replace);

        Assert.Equal(bytes, await Target.ReadAllAsync("locks/l1", Ct));
    }

    [Fact]
    public async Task SaveFileAsync_stores_a_local_file()
    {
        using var dir = new TempDir();
        var bytes = TestData.Random(300_000, seed: 27);
        var path = dir.Combine("pack.tmp-pack");
        await File.WriteAllBytesAsync(path, bytes, Ct);

        await Target.SaveFileAsync("data/5f/5f0e", path, SaveMode.Create, Ct);

        Assert.Equal(bytes, await Target.ReadAllAsync("data/5f/5f0e", Ct));
        Assert.Equal(new ObjectInfo("data/5f/5f0e", 300_000), await Target.StatAsync("data/5f/5f0e", Ct));
    }

    [Fact]
    public async Task SaveFileAsync_with_Create_fails_on_an_existing_name_and_keeps_the_old_content()
    {
        using var dir = new TempDir();
        var first = TestData.Random(100, seed: 28);
        await SaveAsync("data/5f/5f0e", first);
        var path = dir.Combine("pack.tmp-pack");
        await File.WriteAllBytesAsync(path, TestData.Random(200, seed: 29), Ct);

        var error = await Assert.ThrowsAsync<TargetException>(() => Target.SaveFileAsync("data/5f/5f0e", path, SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.AlreadyExists, error.Kind);
        Assert.Equal(first, await Target.ReadAllAsync("data/5f/5f0e", Ct));
    }

    [Fact]
    public async Task SaveFileAsync_with_Replace_replaces_an_existing_object()
    {
        using var dir = new TempDir();
        await SaveAsync("data/5f/5f0e", TestData.Random(100, seed: 30));
        var second = TestData.Random(200, seed: 31);
        var path = dir.Combine("pack.tmp-pack");
        await File.WriteAllBytesAsync(path, second, Ct);

        await Target.SaveFileAsync("data/5f/5f0e", path, SaveMode.Replace, Ct);

        Assert.Equal(second, await Target.ReadAllAsync("data/5f/5f0e", Ct));
    }

    [Fact]
    public async Task A_large_object_round_trips_whole_and_by_range()
    {
        const int Size = 64 << 20;
        var bytes = TestData.Random(Size, seed: 32);

        await SaveAsync("data/9a/large", bytes);

        Assert.Equal(new ObjectInfo("data/9a/large", Size), await Target.StatAsync("data/9a/large", Ct));
        byte[]? hash = null;
        await Target.LoadAsync("data/9a/large", 0, -1, async (stream, ct) => hash = await SHA256.HashDataAsync(stream, ct), Ct);
        Assert.Equal(SHA256.HashData(bytes), hash);

        // A range that starts and ends off any buffer boundary, deep inside the object.
        const int Offset = (33 << 20) - 7;
        const int Length = (1 << 20) + 13;
        Assert.Equal(bytes.AsSpan(Offset, Length).ToArray(), await Target.ReadRangeAsync("data/9a/large", Offset, Length, Ct));
        Assert.Equal(bytes.AsSpan(Size - 5, 5).ToArray(), await Target.ReadRangeAsync("data/9a/large", Size - 5, 5, Ct));
    }

    [Fact]
    public async Task A_cancelled_upload_is_never_visible_and_a_later_save_succeeds()
    {
        var bytes = TestData.Random(3 << 20, seed: 33);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var source = new BlockingSource(bytes[..(1 << 20)], bytes.Length, cancel.Token);

        var save = Target.SaveAsync("data/c4/c4fe", source, SaveMode.Create, cancel.Token);
        await source.Blocked.WaitAsync(Ct);

        // Part way through the upload: the object must not exist yet (invariant I1).
        Assert.Null(await Target.StatAsync("data/c4/c4fe", Ct));
        Assert.Empty(await NamesAsync(""));
        var notYet = await Assert.ThrowsAsync<TargetException>(() => Target.ReadAllAsync("data/c4/c4fe", Ct));
        Assert.Equal(TargetErrorKind.NotFound, notYet.Kind);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => save);

        Assert.Null(await Target.StatAsync("data/c4/c4fe", Ct));
        Assert.Empty(await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();

        await SaveAsync("data/c4/c4fe", bytes);
        Assert.Equal(bytes, await Target.ReadAllAsync("data/c4/c4fe", Ct));
    }

    [Fact]
    public async Task A_cancelled_replace_keeps_the_old_content()
    {
        var old = TestData.Random(1000, seed: 34);
        await SaveAsync("locks/l1", old);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var source = new BlockingSource(TestData.Random(1 << 20, seed: 35), 2 << 20, cancel.Token);

        var save = Target.SaveAsync("locks/l1", source, SaveMode.Replace, cancel.Token);
        await source.Blocked.WaitAsync(Ct);
        Assert.Equal(old, await Target.ReadAllAsync("locks/l1", Ct));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => save);

        Assert.Equal(old, await Target.ReadAllAsync("locks/l1", Ct));
        Assert.Equal(["locks/l1"], await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();
    }

    [Fact]
    public async Task A_retried_save_reads_the_source_again_from_the_start()
    {
        var bytes = TestData.Random(2 << 20, seed: 36);
        var source = new FailsOnceSource(bytes, failAfter: (1 << 20) + 17);
        // The failure comes from the source (a connection dropping mid-upload): the target must let it through as it
        // is, so that the retry decorator sees a transient error. Without delay, no clock is involved.
        var retrying = new RetryingTarget(Target, new RetryOptions { MaxAttempts = 2, FirstDelay = TimeSpan.Zero }, NullLogger.Instance, TimeProvider.System);

        await retrying.SaveAsync("data/7e/7e11", source, SaveMode.Create, Ct);

        Assert.Equal(2, source.Opens);
        Assert.Equal(bytes, await Target.ReadAllAsync("data/7e/7e11", Ct));
        Assert.Equal(["data/7e/7e11"], await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();
    }

    [Fact]
    public async Task A_failure_of_the_source_fails_the_save_and_leaves_nothing()
    {
        var source = new FailsOnceSource(TestData.Random(2 << 20, seed: 37), failAfter: 1 << 20);

        var error = await Assert.ThrowsAsync<TargetException>(() => Target.SaveAsync("data/7e/7e11", source, SaveMode.Create, Ct));

        Assert.Equal("the connection was reset (injected)", error.Message);
        Assert.Null(await Target.StatAsync("data/7e/7e11", Ct));
        Assert.Empty(await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();
    }

    [Fact]
    public async Task Concurrent_saves_of_different_names_all_succeed()
    {
        var objects = Enumerable.Range(0, 16).ToDictionary(i => $"data/{i:x2}/{i:x4}", i => TestData.Random(50_000 + i, seed: 100 + i));

        await Task.WhenAll(objects.Select(o => Task.Run(() => SaveAsync(o.Key, o.Value), Ct)));

        Assert.Equal(objects.Keys.Order(StringComparer.Ordinal), await NamesAsync("data/"));
        foreach (var (name, bytes) in objects)
        {
            Assert.Equal(bytes, await Target.ReadAllAsync(name, Ct));
        }
    }

    [Fact]
    public async Task Concurrent_creates_of_one_name_let_exactly_one_writer_win()
    {
        if (!Target.Capabilities.AtomicCreate)
        {
            Assert.Skip($"{Target.DisplayName} does not promise an atomic create");
        }

        var contents = Enumerable.Range(0, 8).Select(i => TestData.Random(100_000, seed: 200 + i)).ToList();

        var attempts = contents.Select(bytes => Task.Run(() => SaveAsync("locks/exclusive", bytes), Ct)).ToList();
        try
        {
            await Task.WhenAll(attempts);
        }
        catch (TargetException)
        {
            // Inspected below, attempt by attempt.
        }

        var winners = attempts.Select((t, i) => (t, i)).Where(x => x.t.IsCompletedSuccessfully).Select(x => x.i).ToList();
        Assert.Single(winners);
        Assert.All(attempts.Where(t => !t.IsCompletedSuccessfully), t => Assert.Equal(TargetErrorKind.AlreadyExists, Assert.IsType<TargetException>(t.Exception!.InnerException).Kind));
        Assert.Equal(contents[winners[0]], await Target.ReadAllAsync("locks/exclusive", Ct));
        Assert.Equal(["locks/exclusive"], await NamesAsync(""));
        await AssertNoUploadLeftoversAsync();
    }

    [Fact]
    public async Task An_exception_thrown_by_the_load_consumer_reaches_the_caller_unchanged()
    {
        await SaveAsync("config", TestData.Random(100, seed: 38));
        var thrown = new InvalidDataException("the configuration was modified");

        var caught = await Assert.ThrowsAsync<InvalidDataException>(() => Target.LoadAsync("config", 0, -1, (_, _) => throw thrown, Ct));

        Assert.Same(thrown, caught);
    }

    [Fact]
    public async Task Saves_and_loads_honour_an_already_cancelled_token()
    {
        await SaveAsync("config", TestData.Random(100, seed: 39));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Target.SaveAsync("locks/l1", ObjectSource.FromBytes(TestData.Random(1 << 20, seed: 40)), SaveMode.Create, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Target.LoadAsync("config", 0, -1, async (s, ct) => await s.CopyToAsync(Stream.Null, ct), cancelled.Token));

        Assert.Null(await Target.StatAsync("locks/l1", Ct));
        await AssertNoUploadLeftoversAsync();
    }
}
