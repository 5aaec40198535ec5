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
    public async Task A_lock_of_a_dead_process_on_this_host_is_removed_by_the_next_lock_with_a_notice()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var now = repo.Time.GetUtcNow();
        var self = LocalProcess.Current();
        Assert.NotNull(self);
        Directory.CreateDirectory(t.PathOf("locks"));

        // A prune killed with -9: its process is gone. And a lock whose PID now belongs to another process (this one,
        // started at another time).
        var gone = new LockInfo { Id = "0dead", Exclusive = true, Operation = "prune", Host = Environment.MachineName, Pid = GonePid(), Created = now, Refreshed = now, BootId = self.BootId, PidNamespace = self.PidNamespace, StartTicks = 12345 };
        var reused = gone with { Id = "1reused", Pid = Environment.ProcessId, StartTicks = self.StartTicks + 1 };
        // The same host name seen from another boot or another PID namespace (a container): nothing proves it dead.
        var otherBoot = gone with { Id = "2otherboot", Exclusive = false, BootId = "00000000-0000-0000-0000-000000000000" };
        var otherNamespace = gone with { Id = "3otherns", Exclusive = false, PidNamespace = "pid:[1]" };
        foreach (var info in new[] { gone, reused, otherBoot, otherNamespace })
        {
            File.WriteAllBytes(t.PathOf(ObjectNames.Lock(info.Id)), JsonSerializer.SerializeToUtf8Bytes(info, LockJsonForTests.Options));
        }

        await using (var held = await RepositoryLock.AcquireAsync(repo, exclusive: false, "verify", Ct))
        {
            Assert.Equal(["0dead", "1reused"], held.RemovedStale.Select(r => r.Lock.Id).Order(StringComparer.Ordinal));
            Assert.Contains($"process {gone.Pid} no longer runs on this host", held.RemovedStale[0].StaleReason, StringComparison.Ordinal);
            Assert.Contains("another process than the one that took the lock", held.RemovedStale.Single(r => r.Lock.Id == "1reused").StaleReason, StringComparison.Ordinal);
            Assert.Equal(new[] { "locks/2otherboot", "locks/3otherns", ObjectNames.Lock(held.Info.Id) }.Order(StringComparer.Ordinal), t.Objects("locks/"));
        }

        // An exclusive lock still meets the two it cannot prove dead.
        var ex = await Assert.ThrowsAsync<LifeboatException>(() => RepositoryLock.AcquireAsync(repo, exclusive: true, "prune", Ct));
        Assert.Equal(ErrorCode.RepositoryLocked, ex.Code);
    }

    [Fact]
    public async Task A_new_lock_records_the_boot_the_pid_namespace_and_the_start_time_of_its_process()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        await using var held = await RepositoryLock.AcquireAsync(repo, exclusive: false, "backup", Ct);
        var self = LocalProcess.Current()!;
        Assert.Equal(self.BootId, held.Info.BootId);
        Assert.Equal(self.PidNamespace, held.Info.PidNamespace);
        Assert.Equal(self.StartTicks, held.Info.StartTicks);
        Assert.Equal(self.StartTicks, LocalProcess.StartTicksOf(Environment.ProcessId));
        Assert.Null(LocalProcess.StartTicksOf(GonePid()));
        Assert.False(RepositoryLock.Classify(held.Info, repo.Time.GetUtcNow()).IsStale);
    }

    /// <summary>A process id that no process has now (above every id in use, below pid_max).</summary>
    private static int GonePid()
    {
        var used = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out var pid) ? pid : 0).Max();
        for (var pid = used + 1000; ; pid++)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return pid;
            }
        }
    }

    private static class LockJsonForTests
    {
        public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
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
