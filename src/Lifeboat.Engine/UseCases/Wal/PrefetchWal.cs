using System.Diagnostics;
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Engine.UseCases.Wal;

/// <param name="Spool">The spool directory (<see cref="WalSpool"/>).</param>
/// <param name="PgData">The data directory being recovered.</param>
/// <param name="After">The segment wal-fetch restored when it started the prefetcher: prefetching starts after it.</param>
public sealed record PrefetchWalRequest(string Spool, string PgData, string After, string? Source = null, string? From = null);

/// <summary>How the prefetcher ended: the segments it spooled, and why it stopped.</summary>
public sealed record PrefetchWalResult(int Spooled, string Stopped);

/// <summary>
/// The WAL prefetcher (`lifeboat wal-prefetch`, started detached by wal-fetch; pgBackRest's asynchronous archive-get is
/// the model): opens the repository once and keeps the spool filled with the segments after the last one recovery
/// restored — up to Sources:NAME:WalFetch:QueueBytes, Workers at a time, each decrypted and decompressed. One per spool
/// (its lock). It stops when no wal-fetch asked for a segment for WalFetch:IdleTimeout, or when recovery ended, and
/// removes its spool when it exits. A segment not archived is marked (a hint for itself) and re-checked every second;
/// nothing past it is fetched. Damage or an unreadable segment is left to wal-fetch, which reports it.
/// </summary>
public sealed class PrefetchWal : IUseCase<PrefetchWalRequest, PrefetchWalResult>
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Recheck = TimeSpan.FromSeconds(1);

    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly TimeProvider _time;

    public PrefetchWal(Workspace workspace, RepositoryOpener opener, TimeProvider time)
    {
        _workspace = workspace;
        _opener = opener;
        _time = time;
    }

    public async Task<PrefetchWalResult> ExecuteAsync(PrefetchWalRequest request, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSources.Resolve(_workspace, request.Source);
        var spool = WalSpool.At(request.Spool, request.PgData);
        var options = source.WalFetch;
        await using var repository = await _opener.OpenForReadingAsync(request.From, cancellationToken);
        var systemId = source.SystemIdValue();
        if (WalSpool.KeyOf(repository.Config.Id, name, systemId, request.From) != spool.Key)
        {
            return new PrefetchWalResult(0, "the spool belongs to another repository, source or cluster");
        }

        using var held = spool.TryLock($"repository {repository.Config.Id}\nsource {name}\nsystem identifier {systemId.ToString(CultureInfo.InvariantCulture)}\nfrom {request.From ?? "(primary)"}\n");
        if (held is null)
        {
            return new PrefetchWalResult(0, "another prefetcher holds the spool");
        }

        spool.RemoveStaleSiblings();
        var segmentSize = ClusterSources.SegmentSize(source);
        var archive = new WalArchive(repository, name, systemId, segmentSize);
        var queue = options.QueueSegments(segmentSize);
        var inFlight = new Dictionary<string, Task>(StringComparer.Ordinal);
        var missing = new Dictionary<string, long>(StringComparer.Ordinal);
        var spooled = 0;
        var started = _time.GetUtcNow().UtcDateTime;
        string stopped;
        var owned = true;
        try
        {
            while (true)
            {
                var want = spool.Want();
                var last = want?.WrittenUtc > started ? want.Value.WrittenUtc : started;
                if (_time.GetUtcNow().UtcDateTime - last > options.IdleTimeout)
                {
                    stopped = "idle";
                    break;
                }

                if (spool.RecoveryEnded())
                {
                    stopped = "recovery ended";
                    break;
                }

                if (!spool.StillHolds(held))
                {
                    stopped = "the spool was removed";
                    owned = false;
                    break;
                }

                if (!WalFileName.TryParse(want?.Name ?? request.After, segmentSize, out var after) || after!.Kind != WalFileKind.Segment)
                {
                    stopped = $"'{want?.Name ?? request.After}' is not a segment";
                    break;
                }

                var window = Enumerable.Range(1, queue).Select(i => WalFileName.SegmentName(after.Timeline, after.SegmentNumber + (ulong)i, segmentSize)).ToList();
                var present = spool.Spooled();
                foreach (var stale in present.Where(p => !window.Contains(p, StringComparer.Ordinal)))
                {
                    File.Delete(Path.Combine(spool.Directory, stale)); // recovery is past it, or on another timeline
                }

                foreach (var done in inFlight.Where(t => t.Value.IsCompleted).Select(t => t.Key).ToList())
                {
                    if (inFlight[done].IsCompletedSuccessfully && File.Exists(Path.Combine(spool.Directory, done)))
                    {
                        spooled++;
                    }

                    inFlight.Remove(done);
                }

                foreach (var wal in window)
                {
                    long? at;
                    lock (missing)
                    {
                        at = missing.TryGetValue(wal, out var t) ? t : null;
                    }

                    if (at is { } since)
                    {
                        if (_time.GetElapsedTime(since) < Recheck)
                        {
                            break; // the end of the archive (for now): nothing after it
                        }

                        lock (missing)
                        {
                            missing.Remove(wal);
                        }

                        File.Delete(spool.MissingPath(wal));
                    }

                    if (inFlight.Count >= options.Workers)
                    {
                        break;
                    }

                    if (!inFlight.ContainsKey(wal) && !present.Contains(wal, StringComparer.Ordinal))
                    {
                        inFlight[wal] = FetchAsync(archive, spool, wal, missing, cancellationToken);
                    }
                }

                await Task.WhenAny(inFlight.Values.Append(Task.Delay(Poll, _time, cancellationToken)));
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException)
        {
            stopped = "cancelled";
        }
        finally
        {
            try
            {
                await Task.WhenAll(inFlight.Values);
            }
            catch (Exception)
            {
                // Each fetch handles its own failures; cancellation is expected here.
            }

            if (owned)
            {
                spool.Remove();
            }
        }

        return new PrefetchWalResult(spooled, stopped);
    }

    private async Task FetchAsync(WalArchive archive, WalSpool spool, string wal, Dictionary<string, long> missing, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            var content = await archive.LoadAsync(archive.ObjectName(archive.ParseName(wal)), wal, cancellationToken);
            if (content is null)
            {
                lock (missing)
                {
                    missing[wal] = _time.GetTimestamp();
                }

                await File.WriteAllTextAsync(spool.MissingPath(wal), _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), cancellationToken);
                return;
            }

            await spool.StoreAsync(wal, content, cancellationToken);
        }
        catch (Exception ex) when (ex is LifeboatException or IOException or UnauthorizedAccessException)
        {
            // Damaged or unreadable: wal-fetch reads it itself and reports what it finds. Try again after a while.
            lock (missing)
            {
                missing[wal] = _time.GetTimestamp();
            }
        }
    }

    /// <summary>
    /// Starts the prefetcher for <paramref name="spool"/> unless one runs: detached (its own session, no terminal, standard
    /// input, output and error on /dev/null — PostgreSQL's log pipe is not held open), with this call's configuration
    /// and environment. It outlives the wal-fetch that started it. Never fails the caller: prefetching is an optimisation.
    /// </summary>
    public static void EnsureRunning(Workspace workspace, WalSpool spool, string after, string source, string? from)
    {
        if (spool.IsLocked())
        {
            return;
        }

        var self = LifeboatCommand.Self(workspace.Environment);
        var q = RecoveryConfig.ShellQuote;
        var command = $"{self} --config {q(workspace.Config.Path)} wal-prefetch --source {q(source)}{(from is null ? "" : " --from " + q(from))} --pgdata {q(spool.PgData)} {q(spool.Directory)} {q(after)}";
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = spool.PgData };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"setsid -f {command} </dev/null >/dev/null 2>&1");
        info.Environment.Clear();
        foreach (var (k, v) in workspace.Environment)
        {
            if (v is not null)
            {
                info.Environment[k] = v;
            }
        }

        info.Environment.TryAdd("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin");
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { } dotnetRoot)
        {
            info.Environment.TryAdd("DOTNET_ROOT", dotnetRoot);
        }

        try
        {
            // sh returns as soon as setsid has forked the prefetcher: waiting for it reaps it (no zombie).
            using var shell = Process.Start(info);
            shell?.WaitForExit(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // No prefetcher: every wal-fetch reads the repository itself, as with WalFetch:Prefetch off.
        }
    }
}
