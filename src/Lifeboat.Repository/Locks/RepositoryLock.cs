using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Repository.Locks;

/// <summary>A lock object (repository format, section 13).</summary>
public sealed record LockInfo
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("exclusive")]
    public bool Exclusive { get; init; }

    [JsonPropertyName("operation")]
    public required string Operation { get; init; }

    [JsonPropertyName("host")]
    public required string Host { get; init; }

    [JsonPropertyName("pid")]
    public int Pid { get; init; }

    [JsonPropertyName("processStart")]
    public DateTimeOffset? ProcessStart { get; init; }

    /// <summary>The boot of the machine the process ran in (Linux boot_id); with the next two, proves a local holder dead.</summary>
    [JsonPropertyName("bootId")]
    public string? BootId { get; init; }

    /// <summary>The PID namespace of the process (the link /proc/self/ns/pid names, for example <c>pid:[4026531836]</c>).</summary>
    [JsonPropertyName("pidNamespace")]
    public string? PidNamespace { get; init; }

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/&lt;pid&gt;/stat).</summary>
    [JsonPropertyName("startTicks")]
    public long? StartTicks { get; init; }

    [JsonPropertyName("created")]
    public DateTimeOffset Created { get; init; }

    [JsonPropertyName("refreshed")]
    public DateTimeOffset Refreshed { get; init; }

    public string Describe() => $"{(Exclusive ? "exclusive" : "shared")} lock of `{Operation}` on {Host} (pid {Pid}) since {Created:yyyy-MM-dd HH:mm:ssK}";
}

/// <summary>A lock found in the repository, with whether it is stale and why.</summary>
/// <param name="HolderDead">
/// The holder provably no longer runs: the lock names this host, this boot and this PID namespace, and its process id is
/// gone or belongs to a process started at another time. Such a lock is removed by the next lock taken.
/// </param>
public sealed record LockStatus(LockInfo Lock, bool IsStale, string? StaleReason, bool HolderDead = false);

/// <summary>
/// Shared and exclusive repository locks. Held locks are refreshed every <see cref="RefreshInterval"/>;
/// a lock not refreshed for <see cref="StaleAfter"/>, or naming a dead process on this host, is stale.
/// A lock whose holder is provably dead (<see cref="LockStatus.HolderDead"/>) is removed when the next lock is taken,
/// with a warning, as restic does; other stale locks still conflict (a remote process may be alive) and
/// `lifeboat repo unlock` removes them.
/// </summary>
public sealed partial class RepositoryLock : IAsyncDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(30);

    private readonly ITarget _target;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _refresher;
    private LockInfo _info;

    private RepositoryLock(ITarget target, LockInfo info, TimeProvider time)
    {
        _target = target;
        _info = info;
        _time = time;
        _refresher = RefreshLoopAsync();
    }

    public LockInfo Info => _info;

    /// <summary>The locks of dead local processes this lock removed when it was taken (each logged as a warning).</summary>
    public IReadOnlyList<LockStatus> RemovedStale { get; private init; } = [];

    /// <summary>Raised after the lock object was rewritten with a new refresh time (for tests).</summary>
    internal event Action? Refreshed;

    /// <summary>Takes a lock, or throws naming the conflicting holder (and whether it is stale, with the fix).</summary>
    public static async Task<RepositoryLock> AcquireAsync(Repository repository, bool exclusive, string operation, CancellationToken cancellationToken)
    {
        var target = repository.Target;
        var time = repository.Time;
        var now = time.GetUtcNow();
        var self = LocalProcess.Current();
        var info = new LockInfo
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Exclusive = exclusive,
            Operation = operation,
            Host = Environment.MachineName,
            Pid = Environment.ProcessId,
            ProcessStart = ProcessStartOf(Environment.ProcessId),
            BootId = self?.BootId,
            PidNamespace = self?.PidNamespace,
            StartTicks = self?.StartTicks,
            Created = now,
            Refreshed = now,
        };
        await SaveAsync(target, info, SaveMode.Create, cancellationToken);
        var removed = new List<LockStatus>();
        try
        {
            foreach (var other in await ListAsync(repository, cancellationToken))
            {
                if (other.Lock.Id == info.Id)
                {
                    continue;
                }

                if (other.HolderDead)
                {
                    await target.DeleteAsync(ObjectNames.Lock(other.Lock.Id), cancellationToken);
                    LogRemovedDeadLock(repository.Logger, other.Lock.Describe(), other.StaleReason!);
                    removed.Add(other);
                    continue;
                }

                if (!(exclusive || other.Lock.Exclusive))
                {
                    continue;
                }

                var message = $"the repository {target.DisplayName} is locked: {other.Lock.Describe()}" + (other.IsStale ? $"; the lock is stale ({other.StaleReason})" : "");
                var hint = other.IsStale
                    ? "if no Lifeboat process uses the repository, remove stale locks with `lifeboat repo unlock`"
                    : exclusive ? "wait until the other operation ends and run the command again" : "wait until the exclusive operation (prune, forget) ends and run the command again";
                throw new LifeboatException(ErrorCode.RepositoryLocked, message, hint);
            }
        }
        catch
        {
            await target.DeleteAsync(ObjectNames.Lock(info.Id), CancellationToken.None);
            throw;
        }

        return new RepositoryLock(target, info, time) { RemovedStale = removed };
    }

    /// <summary>Every lock in the repository, with its staleness.</summary>
    public static async Task<List<LockStatus>> ListAsync(Repository repository, CancellationToken cancellationToken)
    {
        var result = new List<LockStatus>();
        var now = repository.Time.GetUtcNow();
        foreach (var item in await repository.Target.ListAllAsync(ObjectNames.LocksPrefix, cancellationToken))
        {
            LockInfo? info;
            try
            {
                info = JsonSerializer.Deserialize(await repository.Target.ReadAllAsync(item.Name, cancellationToken), LockJson.Default.LockInfo);
            }
            catch (TargetException ex) when (ex.Kind == TargetErrorKind.NotFound)
            {
                continue; // released while listing
            }
            catch (JsonException)
            {
                info = null;
            }

            if (info is null)
            {
                var id = item.Name[ObjectNames.LocksPrefix.Length..];
                result.Add(new LockStatus(new LockInfo { Id = id, Operation = "unknown", Host = "unknown", Exclusive = true }, true, "the lock object cannot be read"));
                continue;
            }

            result.Add(Classify(info, now));
        }

        return result;
    }

    /// <summary>Removes stale locks (or every lock with <paramref name="all"/>); returns the removed ones.</summary>
    public static async Task<List<LockStatus>> UnlockAsync(Repository repository, bool all, CancellationToken cancellationToken)
    {
        var removed = new List<LockStatus>();
        foreach (var status in await ListAsync(repository, cancellationToken))
        {
            if (all || status.IsStale)
            {
                await repository.Target.DeleteAsync(ObjectNames.Lock(status.Lock.Id), cancellationToken);
                removed.Add(status);
            }
        }

        return removed;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _refresher;
        }
        catch (OperationCanceledException)
        {
        }

        try
        {
            await _target.DeleteAsync(ObjectNames.Lock(_info.Id), CancellationToken.None);
        }
        catch (TargetException)
        {
            // A lock that cannot be removed becomes stale and is reported as such.
        }

        _stop.Dispose();
    }

    internal static LockStatus Classify(LockInfo info, DateTimeOffset now)
    {
        var local = string.Equals(info.Host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
        // Recorded with the boot and the PID namespace of this process: the process id can be checked exactly, here and now.
        if (local && info is { BootId: { } boot, PidNamespace: { } ns, StartTicks: { } ticks } && LocalProcess.Current() is { } self && self.BootId == boot && self.PidNamespace == ns)
        {
            var running = LocalProcess.StartTicksOf(info.Pid);
            if (running is null)
            {
                return new LockStatus(info, true, $"process {info.Pid} no longer runs on this host", HolderDead: true);
            }

            if (running != ticks)
            {
                return new LockStatus(info, true, $"process {info.Pid} on this host is another process than the one that took the lock", HolderDead: true);
            }
        }

        if (now - info.Refreshed > StaleAfter)
        {
            return new LockStatus(info, true, $"not refreshed since {info.Refreshed:yyyy-MM-dd HH:mm:ssK}");
        }

        if (local && info.BootId is null)
        {
            // A lock without the exact record (written by an older version): the process start time, to the second.
            var start = ProcessStartOf(info.Pid);
            if (start is null)
            {
                return new LockStatus(info, true, $"process {info.Pid} no longer runs on this host");
            }

            if (info.ProcessStart is { } recorded && Math.Abs((recorded - start.Value).TotalSeconds) > 2)
            {
                return new LockStatus(info, true, $"process {info.Pid} on this host is another process than the one that took the lock");
            }
        }

        return new LockStatus(info, false, null);
    }

    private async Task RefreshLoopAsync()
    {
        using var timer = new PeriodicTimer(RefreshInterval, _time);
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            _info = _info with { Refreshed = _time.GetUtcNow() };
            try
            {
                await SaveAsync(_target, _info, SaveMode.Replace, _stop.Token);
                Refreshed?.Invoke();
            }
            catch (TargetException)
            {
                // Retried at the next tick; the lock stays valid for StaleAfter.
            }
        }
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Removed the {Lock}: {Reason}")]
    private static partial void LogRemovedDeadLock(ILogger logger, string @lock, string reason);

    private static Task SaveAsync(ITarget target, LockInfo info, SaveMode mode, CancellationToken cancellationToken)
        => target.SaveAsync(ObjectNames.Lock(info.Id), ObjectSource.FromBytes(JsonSerializer.SerializeToUtf8Bytes(info, LockJson.Default.LockInfo)), mode, cancellationToken);

    private static DateTimeOffset? ProcessStartOf(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (ArgumentException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}

[JsonSerializable(typeof(LockInfo))]
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class LockJson : JsonSerializerContext;
