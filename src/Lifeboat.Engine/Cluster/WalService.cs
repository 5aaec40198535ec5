using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Lifeboat.Postgres.Wal;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Cluster;

/// <summary>wal-push and wal-fetch: PostgreSQL's archive_command and restore_command.</summary>
public static class WalService
{
    /// <summary>The cluster source WAL belongs to: the one named, or the only cluster source.</summary>
    public static (string Name, SourceOptions Source) ClusterSource(EngineContext context, string? name)
    {
        if (name is not null)
        {
            var source = context.GetSource(name);
            if (source.Kind != SourceKinds.Cluster)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"source '{name}' is a {source.Kind} source, not a cluster", "give the name of a cluster source");
            }

            return (name, source);
        }

        var clusters = context.Options.Sources.Where(s => s.Value.Kind == SourceKinds.Cluster).ToList();
        return clusters.Count switch
        {
            1 => (clusters[0].Key, clusters[0].Value),
            0 => throw new LifeboatException(ErrorCode.Config, $"there is no cluster source in {context.ConfigFile.Path}", "add one with `lifeboat source add-cluster NAME --pgdata DIR --conn CONNSTRING`"),
            _ => throw new LifeboatException(ErrorCode.Usage, $"{context.ConfigFile.Path} has {clusters.Count} cluster sources ({string.Join(", ", clusters.Select(c => c.Key))})", "say which with --source NAME (`lifeboat archiving setup` writes it into archive_command)"),
        };
    }

    /// <summary>
    /// archive_command: stores the file in the primary target and, at the same time, in every secondary that takes WAL
    /// (Targets:NAME:PushWal). The file is archived — exit 0 — when the primary has it durably: a secondary that fails
    /// is reported, recorded in the run history and caught up by the next replication, so that one unreachable off-site
    /// target does not stop PostgreSQL from recycling WAL. When the primary fails, the command fails naming every target's
    /// outcome, and PostgreSQL retries the file (a secondary that already has it answers "already archived").
    /// </summary>
    public static async Task<WalPushReport> PushAsync(EngineContext context, string? sourceName, string path, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSource(context, sourceName);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        var archive = new WalArchive(repository, name, source.SystemIdValue(), SegmentSize(source));
        var prepared = await archive.PrepareAsync(context.ResolvePath(path), cancellationToken);
        var secondaries = context.Secondaries().Where(t => t.Options!.PushWal)
            .Select(t => PushToSecondaryAsync(context, repository, t, archive, prepared, cancellationToken))
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
        if (failed.Count > 0)
        {
            await RunRecorder.RecordFailuresAsync(context, Catalog.JobKinds.WalPush, failed.Select(f => (f.Target, $"WAL file {prepared.Wal.Name} of '{name}': {f.Error}")), cancellationToken);
        }

        if (primaryError is not null)
        {
            var others = results.Length == 0 ? "" : "; " + string.Join("; ", results.Select(r => r.Error is null ? $"target {r.Target}: stored" : $"target {r.Target}: {r.Error}"));
            throw new LifeboatException(primaryError.Code, $"WAL file {prepared.Wal.Name} was not archived in the primary target: {primaryError.Message}{others}", primaryError.Hint, primaryError);
        }

        return new WalPushReport(prepared.Wal.Name, primary!.Value, results);
    }

    private static async Task<TargetWalPush> PushToSecondaryAsync(EngineContext context, Repo repository, ConfiguredTarget target, WalArchive primaryArchive, PreparedWal prepared, CancellationToken cancellationToken)
    {
        try
        {
            // A short retry budget: the primary decides the exit code, and replication catches up what failed here.
            await using var replica = repository.OnTarget(context.OpenTarget(target.Url, SecondaryRetry, null));
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

    /// <summary>
    /// restore_command: restores an archived file from the first target that has it — <paramref name="from"/> first when
    /// given, else the primary, then the secondaries. A target that cannot be read, or whose copy is damaged, is skipped
    /// with a note. Not found anywhere: <see cref="WalFetchResult.Found"/> is false (wal-fetch exits 1, as PostgreSQL expects).
    /// </summary>
    public static async Task<WalFetchResult> FetchAsync(EngineContext context, string? sourceName, string walName, string destination, string? from, CancellationToken cancellationToken)
    {
        var (name, source) = ClusterSource(context, sourceName);
        var order = TargetReader.Order(context, from, only: false);
        var notes = new List<string>();
        Repo? opened = null;
        try
        {
            for (var i = 0; i < order.Count; i++)
            {
                var candidate = order[i];
                var last = i == order.Count - 1;
                var target = context.OpenTarget(candidate.Url, null, last ? null : t => new FailFastTarget(t));
                Repo repository;
                try
                {
                    repository = opened is null ? await context.OpenRepositoryAsync(target, cancellationToken) : await TargetReader.ReplicaAsync(opened, target, cancellationToken);
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
                    var archive = new WalArchive(repository, name, source.SystemIdValue(), SegmentSize(source));
                    if (await archive.FetchAsync(walName, context.ResolvePath(destination), cancellationToken))
                    {
                        return new WalFetchResult(true, candidate.Name, notes);
                    }

                    notes.Add($"target {candidate.Name}: not archived");
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

    /// <summary>The WAL segment size of the cluster (from pg_control when readable, else the default 16 MiB).</summary>
    public static long SegmentSize(SourceOptions source)
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

/// <summary>What wal-push did: the primary's outcome (it decides the exit code) and each secondary's.</summary>
public sealed record WalPushReport(string File, PushOutcome Primary, IReadOnlyList<TargetWalPush> Secondaries);

/// <summary>A secondary's outcome of wal-push: stored or already there (<see cref="Outcome"/>), or the failure.</summary>
public sealed record TargetWalPush(string Target, PushOutcome? Outcome, string? Error);

/// <summary>What wal-fetch found: the target the file came from, and what happened on the targets tried before.</summary>
public sealed record WalFetchResult(bool Found, string? Target, IReadOnlyList<string> Notes);
