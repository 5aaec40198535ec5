using System.Text.Json;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Repository.Tests;

public sealed class LockTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Shared_locks_coexist_and_an_exclusive_lock_is_refused_while_they_are_held()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await using (await RepositoryLock.AcquireAsync(repo, false, "backup", Ct))
        await using (await RepositoryLock.AcquireAsync(repo, false, "restore", Ct))
        {
            var ex = await Assert.ThrowsAsync<LifeboatException>(() => RepositoryLock.AcquireAsync(repo, true, "prune", Ct));
            Assert.Equal(ErrorCode.RepositoryLocked, ex.Code);
            Assert.Matches("is locked: shared lock of `(backup|restore)` on .* \\(pid \\d+\\) since ", ex.Message);
            Assert.Equal(2, t.Objects("locks/").Count());
        }

        Assert.Empty(t.Objects("locks/"));
        await using (await RepositoryLock.AcquireAsync(repo, true, "prune", Ct))
        {
            await Assert.ThrowsAsync<LifeboatException>(() => RepositoryLock.AcquireAsync(repo, false, "backup", Ct));
        }
    }

    [Fact]
    public async Task A_lock_of_a_dead_process_is_stale_is_reported_with_the_fix_and_unlock_removes_it()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var now = repo.Time.GetUtcNow();
        var dead = new LockInfo { Id = "deadbeef", Exclusive = false, Operation = "backup", Host = Environment.MachineName, Pid = 999_999, Created = now, Refreshed = now };
        Directory.CreateDirectory(t.PathOf("locks"));
        File.WriteAllText(t.PathOf(ObjectNames.Lock("deadbeef")), JsonSerializer.Serialize(dead, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => RepositoryLock.AcquireAsync(repo, true, "prune", Ct));
        Assert.Contains("the lock is stale (process 999999 no longer runs on this host)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("lifeboat repo unlock", ex.Hint, StringComparison.Ordinal);

        await using (await RepositoryLock.AcquireAsync(repo, false, "backup", Ct))
        {
            var removed = await RepositoryLock.UnlockAsync(repo, all: false, Ct);
            Assert.Equal("deadbeef", Assert.Single(removed).Lock.Id);
            Assert.Single(t.Objects("locks/"));
        }
    }

    [Fact]
    public async Task A_lock_not_refreshed_for_thirty_minutes_is_stale_and_a_held_lock_is_refreshed()
    {
        using var t = new TestRepository();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using (await t.InitAsync())
        {
        }

        await using var repo = await t.OpenAsync(time: time);
        await using var held = await RepositoryLock.AcquireAsync(repo, false, "backup", Ct);
        var info = held.Info with { Host = "another-host" };
        Assert.False(RepositoryLock.Classify(info, time.GetUtcNow().AddMinutes(29)).IsStale);
        Assert.True(RepositoryLock.Classify(info, time.GetUtcNow().AddMinutes(31)).IsStale);

        var refreshed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        held.Refreshed += () => refreshed.TrySetResult();
        time.Advance(TimeSpan.FromMinutes(6));
        await refreshed.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var name = t.PathOf(ObjectNames.Lock(held.Info.Id));
        Assert.Contains("\"refreshed\": \"2026-11-22T10:06:00", File.ReadAllText(name), StringComparison.Ordinal);
    }
}
