using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.Sources;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.UseCases.Stacks;

/// <param name="Type">full or incr for the clusters and file trees (config sets and dumps are always whole).</param>
public sealed record BackupStackRequest(string Stack, string? Type = null);

/// <summary>A committed stack backup: its record, the paths members could not read, each member's backup, the replication.</summary>
public sealed record BackupStackResult(
    [property: JsonIgnore] StackRecordView Record,
    [property: JsonPropertyOrder(1)] IReadOnlyList<string> Problems,
    [property: JsonIgnore] IReadOnlyList<BackupView> MemberBackups,
    [property: JsonIgnore] ReplicateReport? Replication,
    [property: JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReplicationError) : StackRecordView(Record)
{
    /// <summary>The JSON's <c>replication</c>: what replication did on each secondary target (an array, as in `backup --source --json`).</summary>
    [JsonPropertyName("replication")]
    [JsonPropertyOrder(1)]
    public IReadOnlyList<ReplicaReport>? ReplicationTargets => Replication?.Targets;

    /// <summary>What members left out by design and say so (sockets), each line led by the member's source; null when none.</summary>
    [JsonPropertyOrder(1)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>
/// `backup --stack` (repository format, section 19): every member checked before anything is written, then database
/// dumps, cluster backups, a named restore point in each cluster (switched out and archived), file trees and config sets,
/// and the stack record last — so the files are at least as new as every row that names them. Replicated once, after
/// the record: a secondary holds the whole stack backup or none of it.
/// </summary>
public sealed class BackupStack : IUseCase<BackupStackRequest, BackupStackResult>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly RepositoryOpener _opener;
    private readonly BackupSource _backup;
    private readonly Replicator _replicator;
    private readonly Runs _runs;
    private readonly TimeProvider _time;
    private readonly CallContext _call;
    private readonly MaintenanceGate _maintenance;

    public BackupStack(Workspace workspace, SourceHandlers handlers, RepositoryOpener opener, BackupSource backup, Replicator replicator, Runs runs, TimeProvider time, CallContext call, MaintenanceGate maintenance)
    {
        _maintenance = maintenance;
        _workspace = workspace;
        _handlers = handlers;
        _opener = opener;
        _backup = backup;
        _replicator = replicator;
        _runs = runs;
        _time = time;
        _call = call;
    }

    public async Task<BackupStackResult> ExecuteAsync(BackupStackRequest request, CancellationToken cancellationToken)
    {
        var (record, outcomes) = await _runs.RecordAsync(
            new RunInfo(RunOperations.StackBackup, Catalog.JobKinds.Stack, request.Stack),
            () => BackupAsync(request, cancellationToken),
            o => new RunFigures(o.Outcomes.Sum(m => m.Manifest.Stats.BytesRead), o.Outcomes.Sum(m => m.Manifest.Stats.StoredBytes), o.Record.Id),
            cancellationToken);
        var (replication, replicationError) = await _replicator.AfterBackupAsync(cancellationToken);
        return new BackupStackResult(
            StackRecordView.From(record, []),
            outcomes.SelectMany(m => m.Problems.Select(p => $"{m.Manifest.Source}: {p}")).ToList(),
            outcomes.Select(o => BackupView.From(o.Manifest)).ToList(),
            replication,
            replicationError)
        {
            Warnings = outcomes.SelectMany(m => m.Warnings.Select(w => $"{m.Manifest.Source}: {w}")).ToList() is { Count: > 0 } warnings ? warnings : null,
        };
    }

    private async Task<(StackRecord Record, List<BackupOutcome> Outcomes)> BackupAsync(BackupStackRequest request, CancellationToken cancellationToken)
    {
        var members = StackRecords.Ordered(_workspace, _handlers, request.Stack);

        // Every member is checked before anything is written: one bad source stops the stack before its first backup.
        foreach (var (name, source) in members)
        {
            await _maintenance.EnsureOpenAsync(name, $"backup of stack '{request.Stack}'", cancellationToken);
            await _handlers.For(source).CheckBeforeBackupAsync(name, source, cancellationToken);
            if (source is ClusterSourceOptions cluster)
            {
                await using var server = await PgServer.ConnectAsync(cluster.Postgres(), cancellationToken);
                _ = await server.GetInfoAsync(cancellationToken);
            }
        }

        var started = _time.GetUtcNow();
        var id = BackupId.New(started);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { ["stack"] = request.Stack, ["stackBackup"] = id };
        var outcomes = new List<BackupOutcome>();
        var points = new List<StackPoint>();
        var clustersMarked = false;
        foreach (var (name, source) in members)
        {
            if (!clustersMarked && source is not (DatabaseSourceOptions or ClusterSourceOptions))
            {
                // Every cluster is backed up: mark the point the files and config sets will be at least as new as.
                points.AddRange(await MarkPointsAsync(members, id, cancellationToken));
                clustersMarked = true;
            }

            _call.Report(new ProgressUpdate("stack backup", $"backing up {source.Kind} source '{name}'", Step: true));
            outcomes.Add(await _backup.RunOnPrimaryAsync(name, source is ConfigSourceOptions ? null : request.Type, tags, cancellationToken));
        }

        if (!clustersMarked)
        {
            points.AddRange(await MarkPointsAsync(members, id, cancellationToken));
        }

        var record = new StackRecord
        {
            Id = id,
            Stack = request.Stack,
            Started = started,
            Finished = _time.GetUtcNow(),
            Host = Environment.MachineName,
            Members = outcomes.Select(o => new StackMember { Source = o.Manifest.Source, Kind = o.Manifest.Kind, Backup = o.Manifest.Id }).ToList(),
            Points = points,
        };
        await using (var repository = await _opener.OpenAsync(cancellationToken))
        {
            await repository.SaveStackAsync(record, cancellationToken);
        }

        return (record, outcomes);
    }

    /// <summary>
    /// For each cluster of the stack: a named restore point, its WAL segment switched out and archived, so the stack's
    /// point is recoverable as soon as the stack backup commits.
    /// </summary>
    private async Task<List<StackPoint>> MarkPointsAsync(List<(string Name, SourceOptions Source)> members, string id, CancellationToken cancellationToken)
    {
        var points = new List<StackPoint>();
        var clusters = members.Where(m => m.Source is ClusterSourceOptions).Select(m => (m.Name, Source: (ClusterSourceOptions)m.Source)).ToList();
        if (clusters.Count == 0)
        {
            return points;
        }

        await using var repository = await _opener.OpenAsync(cancellationToken);
        foreach (var (name, source) in clusters)
        {
            _call.Report(new ProgressUpdate("stack backup", $"marking the stack point in '{name}'", Step: true));
            await using var server = await PgServer.ConnectAsync(source.Postgres(), cancellationToken);
            var info = await server.GetInfoAsync(cancellationToken);
            var pointName = StackRecords.RestorePointName(id);
            var lsn = Lsn.Parse(await server.ScalarAsync<string>("select pg_create_restore_point(@name)::text", cancellationToken, ("name", pointName)));
            var time = await server.ScalarAsync<DateTime>("select clock_timestamp()", cancellationToken);
            await server.SwitchWalAsync(cancellationToken);
            var archive = new WalArchive(repository, name, info.SystemIdentifier, info.WalSegmentSize);
            await ClusterBackup.WaitForArchivedAsync(server, archive, name, source.ArchiveTimeout, _time, info.Timeline, lsn, new Lsn(lsn.Value + 1), info.WalSegmentSize, "reach the stack's point", "the stack backup was not committed", cancellationToken);
            points.Add(new StackPoint { Source = name, RestorePoint = pointName, Lsn = lsn.ToString(), Timeline = info.Timeline, Time = new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)) });
        }

        return points;
    }
}
