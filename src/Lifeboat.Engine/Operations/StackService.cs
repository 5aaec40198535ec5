using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>A finished stack backup: its record (committed last) and every member's outcome.</summary>
public sealed record StackBackupOutcome(StackRecord Record, IReadOnlyList<BackupOutcome> Members)
{
    /// <summary>The replication to the secondary targets after the stack record was committed (null: none).</summary>
    public Replication.ReplicateReport? Replication { get; init; }

    public string? ReplicationError { get; init; }

    public IEnumerable<string> Problems => Members.SelectMany(m => m.Problems.Select(p => $"{m.Manifest.Source}: {p}"));
}

public sealed record StackRestoreRequest
{
    public required string Stack { get; init; }

    public required string Destination { get; init; }

    /// <summary>A stack backup id; null for the latest (or the latest finished at or before <see cref="TargetTime"/>).</summary>
    public string? BackupId { get; init; }

    /// <summary>Recover the clusters to this time instead of the stack's point; files and config come from the stack backup before it.</summary>
    public string? TargetTime { get; init; }

    public bool ArchiveOff { get; init; }
}

/// <summary>One member restored: where it went and, for a cluster, where its recovery stops.</summary>
public sealed record StackMemberRestore(string Source, string Kind, string Backup, string Directory, RestoreOutcome Outcome, string? RecoveryTarget);

public sealed record StackRestoreOutcome(StackRecord Record, string Destination, IReadOnlyList<StackMemberRestore> Members, IReadOnlyList<string> StartOrder);

/// <summary>
/// Stacks (repository format, section 19): an application's sources backed up under one stack backup id and restored
/// together. Backup order gives the consistency: database dumps (each a snapshot), then cluster backups each followed by a
/// named restore point (archived before going on), then file trees and config sets — so the files are at least as new as
/// every row that names them.
/// </summary>
public static class StackService
{
    /// <summary>The restore point name of a stack backup in each of its clusters.</summary>
    public static string RestorePointName(string stackBackupId) => "lifeboat-stack-" + stackBackupId;

    /// <summary>The stack's sources in the order a stack backup takes them.</summary>
    public static List<(string Name, SourceOptions Source)> Ordered(EngineContext context, string stackName)
    {
        var stack = context.GetStack(stackName);
        return stack.Sources
            .Select((name, position) => (Name: name, Source: context.GetSource(name), Position: position))
            .OrderBy(m => Rank(m.Source.Kind))
            .ThenBy(m => m.Position)
            .Select(m => (m.Name, m.Source))
            .ToList();
    }

    private static int Rank(string kind) => kind switch
    {
        SourceKinds.Database => 0,
        SourceKinds.Cluster => 1,
        SourceKinds.Files => 2,
        _ => 3,
    };

    public static Task<StackBackupOutcome> BackupAsync(EngineContext context, string stackName, string? type, IProgress<string>? progress, CancellationToken cancellationToken)
        => RunRecorder.RecordAsync(
            context,
            Catalog.JobKinds.Stack,
            stackName,
            null,
            () => BackupCoreAsync(context, stackName, type, progress, cancellationToken),
            o => new RunFigures(o.Members.Sum(m => m.Manifest.Stats.BytesRead), o.Members.Sum(m => m.Manifest.Stats.StoredBytes), o.Record.Id),
            cancellationToken);

    private static async Task<StackBackupOutcome> BackupCoreAsync(EngineContext context, string stackName, string? type, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var members = Ordered(context, stackName);

        // Every member is checked before anything is written: one bad source stops the stack before its first backup.
        foreach (var (name, source) in members)
        {
            await BackupService.CheckSourceAsync(name, source, cancellationToken);
            if (source.Kind == SourceKinds.Cluster)
            {
                await using var server = await PgServer.ConnectAsync(source.Connection!, cancellationToken);
                _ = await server.GetInfoAsync(cancellationToken);
            }
        }

        var started = context.Time.GetUtcNow();
        var id = BackupId.New(started);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["stack"] = stackName, ["stackBackup"] = id };
        var outcomes = new List<BackupOutcome>();
        var points = new List<StackPoint>();
        var clustersMarked = false;
        foreach (var (name, source) in members)
        {
            if (!clustersMarked && Rank(source.Kind) > Rank(SourceKinds.Cluster))
            {
                // Every cluster is backed up: mark the point the files and config sets will be at least as new as.
                points.AddRange(await MarkPointsAsync(context, members, id, progress, cancellationToken));
                clustersMarked = true;
            }

            progress?.Report($"backing up {source.Kind} source '{name}'");
            var outcome = await BackupService.RunAsync(context, name, source.Kind == SourceKinds.Config ? null : type, null, cancellationToken, tags, replicate: false);
            outcomes.Add(outcome);
        }

        if (!clustersMarked)
        {
            points.AddRange(await MarkPointsAsync(context, members, id, progress, cancellationToken));
        }

        var record = new StackRecord
        {
            Id = id,
            Stack = stackName,
            Started = started,
            Finished = context.Time.GetUtcNow(),
            Host = Environment.MachineName,
            Members = outcomes.Select(o => new StackMember { Source = o.Manifest.Source, Kind = o.Manifest.Kind, Backup = o.Manifest.Id }).ToList(),
            Points = points,
        };
        await using (var repository = await context.OpenRepositoryAsync(cancellationToken))
        {
            await repository.SaveStackAsync(record, cancellationToken);
        }

        // Replicate once, with the record: a secondary then holds the whole stack backup or (after a failure) none of it.
        var (replication, replicationError) = await BackupService.ReplicateAfterBackupAsync(context, cancellationToken);
        return new StackBackupOutcome(record, outcomes) { Replication = replication, ReplicationError = replicationError };
    }

    /// <summary>
    /// For each cluster of the stack: a named restore point, its WAL segment switched out and archived, so the stack's
    /// point is recoverable as soon as the stack backup commits.
    /// </summary>
    private static async Task<List<StackPoint>> MarkPointsAsync(EngineContext context, List<(string Name, SourceOptions Source)> members, string id, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var points = new List<StackPoint>();
        var clusters = members.Where(m => m.Source.Kind == SourceKinds.Cluster).ToList();
        if (clusters.Count == 0)
        {
            return points;
        }

        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        foreach (var (name, source) in clusters)
        {
            progress?.Report($"marking the stack point in '{name}'");
            await using var server = await PgServer.ConnectAsync(source.Connection!, cancellationToken);
            var info = await server.GetInfoAsync(cancellationToken);
            var pointName = RestorePointName(id);
            var lsn = Lsn.Parse(await server.ScalarAsync<string>("select pg_create_restore_point(@name)::text", cancellationToken, ("name", pointName)));
            var time = await server.ScalarAsync<DateTime>("select clock_timestamp()", cancellationToken);
            await server.SwitchWalAsync(cancellationToken);
            var archive = new WalArchive(repository, name, info.SystemIdentifier, info.WalSegmentSize);
            await ClusterBackup.WaitForArchivedAsync(server, archive, name, source.ArchiveTimeout, context.Time, info.Timeline, lsn, new Lsn(lsn.Value + 1), info.WalSegmentSize, "reach the stack's point", "the stack backup was not committed", cancellationToken);
            points.Add(new StackPoint { Source = name, RestorePoint = pointName, Lsn = lsn.ToString(), Timeline = info.Timeline, Time = new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) });
        }

        return points;
    }

    /// <summary>The stack backups of a stack, oldest first, and which of their members are gone (expired or forgotten).</summary>
    public static async Task<List<(StackRecord Record, List<string> Missing)>> ListAsync(Repo repository, string? stackName, CancellationToken cancellationToken)
    {
        var (stacks, damaged) = await repository.LoadStacksAsync(cancellationToken);
        if (damaged.Count > 0)
        {
            throw new DamageException($"{damaged.Count} stack record(s) cannot be read: {string.Join(", ", damaged)}", damaged, []);
        }

        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var ids = manifests.Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        return stacks
            .Where(s => stackName is null || s.Stack == stackName)
            .Select(s => (s, s.Members.Where(m => !ids.Contains(m.Backup)).Select(m => m.Backup).ToList()))
            .ToList();
    }

    /// <summary>Deletes the stack records that name a deleted backup (a stack with a member gone cannot be restored).</summary>
    public static async Task<List<string>> ForgetBrokenAsync(Repo repository, IReadOnlyCollection<string> deletedBackups, CancellationToken cancellationToken)
    {
        var forgotten = new List<string>();
        if (deletedBackups.Count == 0)
        {
            return forgotten;
        }

        var (stacks, _) = await repository.LoadStacksAsync(cancellationToken);
        foreach (var stack in stacks.Where(s => s.Members.Any(m => deletedBackups.Contains(m.Backup))))
        {
            await repository.DeleteStackAsync(stack.Id, cancellationToken);
            forgotten.Add(stack.Id);
        }

        return forgotten;
    }

    public static async Task<StackRestoreOutcome> RestoreAsync(EngineContext context, StackRestoreRequest request, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var destination = context.ResolvePath(request.Destination);
        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{destination} is not empty", "restore a stack into a new or empty directory");
        }

        if (File.Exists(destination))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{destination} is a file", "restore a stack into a new or empty directory");
        }

        var targetTime = request.TargetTime is null ? (DateTimeOffset?)null : TimeParsing.Parse(request.TargetTime, "--target-time");
        StackRecord record;
        await using (var repository = await context.OpenRepositoryAsync(cancellationToken))
        {
            var all = await ListAsync(repository, request.Stack, cancellationToken);
            if (request.BackupId is not null)
            {
                var found = all.FirstOrDefault(s => s.Record.Id == request.BackupId);
                if (found.Record is null)
                {
                    var other = (await repository.LoadStacksAsync(cancellationToken)).Stacks.FirstOrDefault(s => s.Id == request.BackupId);
                    throw new LifeboatException(ErrorCode.InvalidInput, other is null ? $"there is no stack backup {request.BackupId} in {repository.DisplayName}" : $"stack backup {request.BackupId} belongs to stack '{other.Stack}', not '{request.Stack}'", $"`lifeboat stack list --backups` shows the stack backups");
                }

                if (targetTime is { } t && found.Record.Finished > t)
                {
                    throw new LifeboatException(ErrorCode.InvalidInput, $"stack backup {found.Record.Id} finished at {found.Record.Finished:yyyy-MM-dd HH:mm:ss zzz}, after --target-time {t:yyyy-MM-dd HH:mm:ss zzz}", "choose an earlier stack backup, or omit --backup to use the latest before the target");
                }

                record = Complete(found);
            }
            else
            {
                var candidates = all.Where(s => targetTime is null || s.Record.Finished <= targetTime).ToList();
                if (candidates.Count == 0)
                {
                    throw new LifeboatException(
                        all.Count == 0 ? ErrorCode.NotFound : ErrorCode.InvalidInput,
                        all.Count == 0 ? $"stack '{request.Stack}' has no stack backup in {repository.DisplayName}" : $"stack '{request.Stack}' has no stack backup finished at or before {targetTime:yyyy-MM-dd HH:mm:ss zzz} (the oldest finished {all[0].Record.Finished:yyyy-MM-dd HH:mm:ss zzz})",
                        all.Count == 0 ? $"run `lifeboat backup --stack {request.Stack}` first" : "choose a later --target-time");
                }

                record = Complete(candidates[^1]);
            }
        }

        // Check every member before writing anything: a missing source configuration would leave half a stack behind.
        foreach (var member in record.Members)
        {
            _ = context.GetSource(member.Source);
        }

        Directory.CreateDirectory(destination);
        var restored = new List<StackMemberRestore>();
        foreach (var member in record.Members.OrderBy(m => Rank(m.Kind)))
        {
            var directory = Path.Combine(destination, member.Source);
            progress?.Report($"restoring {member.Kind} source '{member.Source}' (backup {member.Backup}) to {directory}");
            string? recovery = null;
            RestoreRequest restore;
            if (member.Kind == SourceKinds.Cluster)
            {
                var point = record.Points.FirstOrDefault(p => p.Source == member.Source)
                    ?? throw new DamageException($"stack record {ObjectNames.Stack(record.Id)} has no point for cluster '{member.Source}'", [ObjectNames.Stack(record.Id)], []);
                var target = targetTime is null ? new RecoveryTarget(RecoveryTargetKind.Name, point.RestorePoint) : new RecoveryTarget(RecoveryTargetKind.Time, request.TargetTime);
                recovery = target.ToString();
                restore = new RestoreRequest
                {
                    SourceName = member.Source,
                    BackupId = member.Backup,
                    Destination = directory,
                    Target = target,
                    TablespaceRoot = directory + ".tablespaces",
                    ArchiveOff = request.ArchiveOff,
                };
            }
            else
            {
                restore = new RestoreRequest { SourceName = member.Source, BackupId = member.Backup, Destination = directory };
            }

            var outcome = await RestoreService.RunAsync(context, restore, null, cancellationToken);
            restored.Add(new StackMemberRestore(member.Source, member.Kind, member.Backup, directory, outcome, recovery));
        }

        return new StackRestoreOutcome(record, destination, restored, StartOrder(restored));
    }

    private static StackRecord Complete((StackRecord Record, List<string> Missing) stack)
        => stack.Missing.Count == 0
            ? stack.Record
            : throw new LifeboatException(ErrorCode.NotFound, $"stack backup {stack.Record.Id} cannot be restored: its member backup(s) {string.Join(", ", stack.Missing)} are gone (expired or forgotten)", "`lifeboat stack list --backups` shows the complete stack backups");

    /// <summary>What to start, in which order, once everything is on disk.</summary>
    private static List<string> StartOrder(List<StackMemberRestore> members)
    {
        var steps = new List<string>();
        foreach (var m in members.Where(m => m.Kind == SourceKinds.Cluster))
        {
            steps.Add($"start cluster '{m.Source}': pg_ctl -D {m.Directory} -o '-p PORT' start (it recovers to {m.RecoveryTarget} and is then promoted; pick a free PORT while the original runs)");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Database))
        {
            steps.Add($"load database '{m.Source}': `lifeboat restore --source {m.Source} --backup {m.Backup} --into NEW_DB`, or pg_restore -d NEW_DB -j 2 {Path.Combine(m.Directory, "dump")} (roles: {Path.Combine(m.Directory, "globals.sql")})");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Files))
        {
            steps.Add($"point the application's files '{m.Source}' at {m.Directory} (or move them to the original place)");
        }

        foreach (var m in members.Where(m => m.Kind == SourceKinds.Config))
        {
            steps.Add($"review config set '{m.Source}' in {m.Directory} (private; it holds secrets), then put the files back");
        }

        steps.Add("start the application");
        return steps;
    }
}
