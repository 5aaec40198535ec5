using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;
using Lifeboat.Postgres.Wal;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.UseCases.Wal;

/// <param name="Path">%p: the WAL file to archive.</param>
/// <param name="Source">The cluster source (needed when the configuration has several).</param>
public sealed record PushWalRequest(string Path, string? Source = null);

/// <param name="Name">%f: the WAL file PostgreSQL wants.</param>
/// <param name="Destination">%p: where to write it.</param>
/// <param name="From">Read from this target first (primary or a secondary); the others are tried next.</param>
public sealed record FetchWalRequest(string Name, string Destination, string? Source = null, string? From = null);

/// <summary>The cluster sources of a workspace.</summary>
public static class ClusterSources
{
    /// <summary>The cluster source WAL belongs to: the one named, or the only cluster source.</summary>
    public static (string Name, ClusterSourceOptions Source) Resolve(Workspace workspace, string? name)
    {
        if (name is not null)
        {
            return (name, workspace.GetSource<ClusterSourceOptions>(name));
        }

        var clusters = workspace.Options.Sources.Where(s => s.Value is ClusterSourceOptions).Select(s => (s.Key, (ClusterSourceOptions)s.Value)).ToList();
        return clusters.Count switch
        {
            1 => clusters[0],
            0 => throw new LifeboatException(ErrorCode.Config, $"there is no cluster source in {workspace.Config.Path}", "add one with `lifeboat source add-cluster NAME --pgdata DIR --conn CONNSTRING`"),
            _ => throw new LifeboatException(ErrorCode.Usage, $"{workspace.Config.Path} has {clusters.Count} cluster sources ({string.Join(", ", clusters.Select(c => c.Key))})", "say which with «source» NAME (`lifeboat archiving setup` writes it into archive_command)"),
        };
    }

    /// <summary>The WAL segment size of the cluster (from pg_control when readable, else the default 16 MiB).</summary>
    public static long SegmentSize(ClusterSourceOptions source)
    {
        try
        {
            return Postgres.Control.PgControl.Read(source.PgData!).WalSegmentSize;
        }
        catch (LifeboatException)
        {
            return WalFileName.DefaultSegmentSize;
        }
    }
}

/// <summary>
/// `wal-push` — PostgreSQL's archive_command: stores the file in the primary target and, at the same time, in every
/// secondary that takes WAL (Targets:NAME:PushWal). The file is archived — exit 0 — when the primary has it durably: a
/// secondary that fails is reported (an event, and a failed run in the history) and caught up by the next replication,
/// so that one unreachable off-site target does not stop PostgreSQL from recycling WAL. When the primary fails, the
/// command fails naming every target's outcome, and PostgreSQL retries the file (a secondary that already has it
/// answers "already archived"). A file from a restored copy that was restored with archive mode off is refused before
/// anything is written (<see cref="CopyArchiving"/>).
/// </summary>
public sealed class PushWal : IUseCase<PushWalRequest, WalPushReport>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Events _events;

    public PushWal(Workspace workspace, RepositoryOpener opener, Events events)
    {
        _workspace = workspace;
        _opener = opener;
        _events = events;
    }

    public async Task<WalPushReport> ExecuteAsync(PushWalRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await PushAsync(request, cancellationToken);
        }
        catch (LifeboatException ex) when (ex.Code != ErrorCode.Config && ex.Code != ErrorCode.Usage)
        {
            // Not archived: PostgreSQL keeps the file and calls again; the event says so (a stalled archive is also a
            // health alert of the server). A configuration error is the command's, not the archive's.
            string source;
            try
            {
                source = ClusterSources.Resolve(_workspace, request.Source).Name;
            }
            catch (LifeboatException)
            {
                source = request.Source ?? "";
            }

            await _events.PublishAsync(new WalPushFailed(source, Path.GetFileName(request.Path), WalPushFailed.PrimaryTarget, ex.Message), CancellationToken.None);
            throw;
        }
    }

    private async Task<WalPushReport> PushAsync(PushWalRequest request, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSources.Resolve(_workspace, request.Source);
        var path = _workspace.ResolvePath(request.Path);
        CopyArchiving.EnsureMayArchive(name, source, path);
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var archive = new WalArchive(repository, name, source.SystemIdValue(), ClusterSources.SegmentSize(source));
        var prepared = await archive.PrepareAsync(path, cancellationToken);
        var secondaries = _workspace.Secondaries().Where(t => t.Options!.PushWal)
            .Select(t => PushToSecondaryAsync(repository, t, archive, prepared, cancellationToken))
            .ToList();
        PushOutcome? primary = null;
        LifeboatException? primaryError = null;
        try
        {
            primary = await archive.PushAsync(prepared, cancellationToken);
        }
        catch (LifeboatException ex)
        {
            primaryError = ex;
        }

        var results = await Task.WhenAll(secondaries);
        var failed = results.Where(r => r.Error is not null).ToList();
        foreach (var f in failed)
        {
            await _events.PublishAsync(new WalPushFailed(name, prepared.Wal.Name, f.Target, f.Error!), cancellationToken);
        }

        if (primaryError is not null)
        {
            var others = results.Length == 0 ? "" : "; " + string.Join("; ", results.Select(r => r.Error is null ? $"target {r.Target}: stored" : $"target {r.Target}: {r.Error}"));
            throw new LifeboatException(primaryError.Code, $"WAL file {prepared.Wal.Name} was not archived in the primary target: {primaryError.Message}{others}", primaryError.Hint, primaryError);
        }

        return new WalPushReport(prepared.Wal.Name, primary!.Value, results);
    }

    private async Task<TargetWalPush> PushToSecondaryAsync(Repo repository, ConfiguredTarget target, WalArchive primaryArchive, PreparedWal prepared, CancellationToken cancellationToken)
    {
        try
        {
            // A short retry budget: the primary decides the exit code, and replication catches up what failed here.
            await using var replica = repository.OnTarget(_opener.OpenTarget(target.Url, SecondaryRetry, null));
            var archive = new WalArchive(replica, primaryArchive.Source, primaryArchive.SystemIdentifier, primaryArchive.SegmentSize);
            return new TargetWalPush(target.Name, await archive.PushAsync(prepared, cancellationToken), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever went wrong there, the primary decides the exit code: report it with the others.
            return new TargetWalPush(target.Name, null, ex.Message);
        }
    }

    /// <summary>Two attempts, the second 200 ms after the first: enough for a dropped connection, not for an outage.</summary>
    internal static RetryOptions SecondaryRetry { get; } = new() { MaxAttempts = 2, FirstDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(1) };

}

/// <summary>
/// `wal-fetch` — PostgreSQL's restore_command: restores an archived file from the first target that has it — «from»
/// first when given, else the primary, then the secondaries. A target that cannot be read, or whose copy is damaged, is
/// skipped with a note. Not found anywhere: <see cref="WalFetchResult.Found"/> is false (wal-fetch exits 1, as
/// PostgreSQL expects) — but only when the first target could say so: a secondary's "not archived" while the first
/// target cannot be read is a failure (exit above 125), since a secondary may lag behind the primary. Archived but damaged wherever it is found: a <see cref="DamageException"/> naming the file (wal-fetch
/// exits above 125 so that PostgreSQL stops recovery instead of taking the damage for the end of the archive).
/// With Sources:NAME:WalFetch:Prefetch on, a segment restored into a pg_wal directory is first looked for in the
/// prefetch spool (<see cref="WalSpool"/>, filled by <see cref="PrefetchWal"/>, which the first such fetch starts);
/// whatever the spool does not have soundly is read as above, so the outcomes and exit codes are the same.
/// </summary>
public sealed class FetchWal : IUseCase<FetchWalRequest, WalFetchResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;

    private readonly TimeProvider _time;

    public FetchWal(Workspace workspace, RepositoryOpener opener, TimeProvider time)
    {
        _workspace = workspace;
        _opener = opener;
        _time = time;
    }

    /// <summary>How long wal-fetch waits for a segment the prefetcher is fetching before it fetches it itself.</summary>
    internal static TimeSpan InFlightWait { get; } = TimeSpan.FromSeconds(30);

    public async Task<WalFetchResult> ExecuteAsync(FetchWalRequest request, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSources.Resolve(_workspace, request.Source);
        var order = TargetReader.Order(_workspace, request.From, only: false);
        var destination = _workspace.ResolvePath(request.Destination);
        var segmentSize = ClusterSources.SegmentSize(source);
        var spool = await SpoolAsync(request, name, source, segmentSize, destination, order, cancellationToken);
        if (spool is not null)
        {
            if (await spool.TryServeAsync(ParseSegment(request.Name, segmentSize)!, destination, segmentSize, source.SystemIdValue(), InFlightWait, _time, cancellationToken))
            {
                spool.Touch(request.Name);
                PrefetchWal.EnsureRunning(_workspace, spool, request.Name, name, request.From);
                return new WalFetchResult(true, null, [], Spooled: true);
            }
        }

        var result = await FetchAsync(request, name, source, order, destination, cancellationToken);
        if (spool is not null && result.Found)
        {
            spool.Touch(request.Name);
            PrefetchWal.EnsureRunning(_workspace, spool, request.Name, name, request.From);
        }

        return result;
    }

    private static WalFileName? ParseSegment(string name, long segmentSize)
        => WalFileName.TryParse(name, segmentSize, out var wal) && wal!.Kind == WalFileKind.Segment ? wal : null;

    /// <summary>
    /// The prefetch spool of this restore_command call: only for a segment (history, .partial and .backup files are always
    /// read from the repository), only into a pg_wal directory, only with WalFetch:Prefetch on, and only when the first
    /// target's repository id can be read (one small read, no key): the spool is keyed by it.
    /// </summary>
    private async Task<WalSpool?> SpoolAsync(FetchWalRequest request, string name, ClusterSourceOptions source, long segmentSize, string destination, IReadOnlyList<ConfiguredTarget> order, CancellationToken cancellationToken)
    {
        if (!source.WalFetch.Prefetch || ParseSegment(request.Name, segmentSize) is null || WalSpool.For(destination, "", name, 0, null) is null)
        {
            return null;
        }

        try
        {
            await using var target = _opener.OpenTarget(order[0].Url, null, t => new FailFastTarget(t));
            var config = Lifeboat.Repository.Format.RepositoryConfig.Parse(await target.ReadAllAsync(Lifeboat.Repository.Format.ObjectNames.Config, cancellationToken), target.DisplayName);
            return WalSpool.For(destination, config.Id, name, source.SystemIdValue(), request.From);
        }
        catch (Exception ex) when (ex is LifeboatException or IOException or System.Text.Json.JsonException)
        {
            return null; // the fetch below says what is wrong with the target
        }
    }

    private async Task<WalFetchResult> FetchAsync(FetchWalRequest request, string name, ClusterSourceOptions source, IReadOnlyList<ConfiguredTarget> order, string destination, CancellationToken cancellationToken)
    {
        var walName = request.Name;
        var notes = new List<string>();
        var damaged = new List<string>();
        Repo? opened = null;
        try
        {
            for (var i = 0; i < order.Count; i++)
            {
                var candidate = order[i];
                var last = i == order.Count - 1;
                var target = _opener.OpenTarget(candidate.Url, null, last ? null : t => new FailFastTarget(t));
                Repo repository;
                try
                {
                    repository = opened is null ? await _opener.OpenAsync(target, cancellationToken) : await TargetReader.ReplicaAsync(opened, target, cancellationToken);
                }
                catch (LifeboatException ex) when (TargetReader.CanFallBack(ex))
                {
                    notes.Add($"target {candidate.Name}: {ex.Message}");
                    continue;
                }

                var owned = opened is not null;
                opened ??= repository;
                try
                {
                    var archive = new WalArchive(repository, name, source.SystemIdValue(), ClusterSources.SegmentSize(source));
                    if (await archive.FetchAsync(walName, destination, cancellationToken))
                    {
                        return new WalFetchResult(true, candidate.Name, notes);
                    }

                    notes.Add($"target {candidate.Name}: not archived");
                }
                catch (DamageException ex)
                {
                    damaged.AddRange(ex.DamagedObjects.Select(o => $"{o} on target {candidate.Name}"));
                    notes.Add($"target {candidate.Name}: {ex.Message}");
                }
                catch (LifeboatException ex) when (TargetReader.CanFallBack(ex))
                {
                    notes.Add($"target {candidate.Name}: {ex.Message}");
                }
                finally
                {
                    if (owned)
                    {
                        await repository.DisposeAsync();
                    }
                }
            }

            if (damaged.Count > 0)
            {
                // The file is archived but no copy is sound: the end of the archive it is not. Recovery must stop here
                // rather than end early and promote without the WAL after it.
                throw new DamageException(
                    $"WAL file {walName} is archived but damaged, and no target has a sound copy: {string.Join("; ", notes)}",
                    damaged,
                    [],
                    "recovery cannot go past this file: restore it from a replica of the repository (`lifeboat replicate`), or recover to a point before it");
            }

            if (notes.Count > 0 && !notes[0].EndsWith(": not archived", StringComparison.Ordinal) && notes.Any(n => n.EndsWith(": not archived", StringComparison.Ordinal)))
            {
                // Only the first target (the primary, or «from») answers for the end of the archive: a secondary that
                // lags behind it does not have the newest files, so its "not archived" would end recovery early.
                throw new LifeboatException(
                    ErrorCode.TargetFailed,
                    $"WAL file {walName} could not be looked up on target {order[0].Name}, the first to answer for the archive, and the others do not have it: {string.Join("; ", notes)}",
                    $"recovery stops here rather than end without it: make target {order[0].Name} readable and start PostgreSQL again (recovery goes on), or, if it is lost, restore with «from» NAME of the target to recover from (restore_command then reads it first, and its end of the archive is the end)");
            }

            if (notes.Count > 0 && notes.All(n => !n.EndsWith(": not archived", StringComparison.Ordinal)))
            {
                // No target could say whether it has the file: that is a failure, not the end of the archive.
                throw new LifeboatException(ErrorCode.TargetFailed, $"WAL file {walName} could not be read from any target: {string.Join("; ", notes)}", "check that the targets are reachable (`lifeboat target verify NAME`)");
            }

            return new WalFetchResult(false, null, notes);
        }
        finally
        {
            if (opened is not null)
            {
                await opened.DisposeAsync();
            }
        }
    }
}

/// <summary>What wal-push did: the primary's outcome (it decides the exit code) and each secondary's.</summary>
public sealed record WalPushReport(string File, PushOutcome Primary, IReadOnlyList<TargetWalPush> Secondaries);

/// <summary>A secondary's outcome of wal-push: stored or already there (<see cref="Outcome"/>), or the failure.</summary>
public sealed record TargetWalPush(string Target, PushOutcome? Outcome, string? Error);

/// <summary>What wal-fetch found: the target the file came from, and what happened on the targets tried before.</summary>
/// <param name="Spooled">Served from the prefetch spool (<see cref="WalSpool"/>): <see cref="Target"/> is then null.</param>
public sealed record WalFetchResult(bool Found, string? Target, IReadOnlyList<string> Notes, bool Spooled = false);
