using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Server;
using Lifeboat.Repository.Locks;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>A PostgreSQL cluster: physical base backups (block-level incrementals) and continuous WAL archiving.</summary>
public sealed class ClusterHandler : SourceHandler<ClusterSourceOptions>
{
    private readonly TreeRestores _trees;
    private readonly IApprovalGate _gate;
    private readonly ILoggerFactory _loggers;

    public ClusterHandler(TreeRestores trees, IApprovalGate gate, ILoggerFactory loggers)
    {
        _trees = trees;
        _gate = gate;
        _loggers = loggers;
    }

    public override string Kind => SourceKinds.Cluster;

    public override int StackOrder => 1;

    private Workspace Workspace => _trees.Workspace;

    protected override SourceSummary Summarize(string name, ClusterSourceOptions options)
        => new(name, Kind, options.PgData, null, null, [], [], $"{options.PgData} (system id {options.SystemIdentifier})");

    protected override Task CheckBeforeBackupAsync(string name, ClusterSourceOptions options, CancellationToken cancellationToken)
    {
        ClusterBackup.CheckSource(name, options);
        return Task.CompletedTask;
    }

    protected override Task<BackupOutcome> BackupAsync(string name, ClusterSourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
        => new ClusterBackup(repository, name, options, _loggers.CreateLogger<ClusterBackup>()).RunAsync(request, progress, cancellationToken);

    /// <summary>
    /// Every block a backup stores changed since the previous one, and every change since then is in the WAL written
    /// since the previous backup started (with full-page images, more than the blocks): that WAL, no more than the
    /// cluster's size on disk. A first backup, or one whose server cannot be asked, counts the whole cluster.
    /// </summary>
    protected override async Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, ClusterSourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken)
    {
        var size = SizeOnDisk(options.PgData!);
        if (previous is not null && ClusterBackupInfo.FromDetails(previous.Details) is { } info && Lsn.TryParse(info.StartLsn, out var start))
        {
            try
            {
                await using var server = await PgServer.ConnectAsync(options.Postgres(), cancellationToken);
                var now = await server.CurrentWalLsnAsync(cancellationToken);
                if (now.Value >= start.Value && (long)(now.Value - start.Value) < size)
                {
                    var wal = (long)(now.Value - start.Value);
                    return Operations.SpaceEstimate.HalfOf(wal, $"the {ByteSize.Format(wal)} of WAL written since backup {previous.Id} started");
                }
            }
            catch (LifeboatException)
            {
                // The backup will say what is wrong with the server; the estimate falls back to the whole cluster.
            }
        }

        return Operations.SpaceEstimate.HalfOf(size, $"its {ByteSize.Format(size)} on disk");
    }

    protected override Task CheckAsync(string name, ClusterSourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken)
        => ClusterChecks.CheckClusterAsync(Workspace.Config.Path, repository, name, options, Workspace.Environment, results, cancellationToken);

    protected override Task<RestoreSourceResult> RestoreAsync(string name, ClusterSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.Into is not null)
        {
            return RestoreObjectsAsync(name, options, request, cancellationToken);
        }

        if (request.Database is not null || request.Table.Count > 0 || request.SchemaOnly || request.Clean || request.NoOwner || request.Conn is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, "«database», «table», «schemaOnly», «clean», «noOwner» and «conn» restore into a database", "add «into» NEW_DB (the database to create)");
        }

        return RestoreClusterAsync(name, options, request, cancellationToken);
    }

    protected override Task DrillAsync(string name, ClusterSourceOptions options, DrillEnvironment environment, DrillPlan plan, DrillReport report, IProgress<string>? progress, CancellationToken cancellationToken)
        => new ClusterDrill(environment, name, options, plan, report, progress).RunAsync(cancellationToken);

    private async Task<RestoreSourceResult> RestoreClusterAsync(string name, ClusterSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.To is null)
        {
            throw new LifeboatException(ErrorCode.Usage, "restore of a cluster needs «to» DIR", "restore into a new data directory with «to» DIR; to rewrite an existing one, add «delta» (it must not be running)");
        }

        if (request.Path.Count > 0 || request.Overwrite)
        {
            throw new LifeboatException(ErrorCode.Usage, "«path» and «overwrite» apply to file-tree sources", "for a cluster use «delta» or «force»");
        }

        var started = _trees.Time.GetTimestamp();
        var destination = Workspace.ResolvePath(request.To);
        var target = request.RecoveryTarget();
        var tablespaces = request.TablespaceMapping(Workspace.WorkingDirectory);
        if (request.Delta || request.Force)
        {
            await _gate.AuthorizeAsync(
                new DestructiveOperation(DestructiveOperations.RestoreOverwrite, name, $"restore '{name}' over the data directory {destination}{(destination == options.PgData ? " (the source's own PGDATA)" : "")}", new Dictionary<string, string?>
                {
                    ["backup"] = request.Backup, ["to"] = destination, ["delta"] = request.Delta.ToString(), ["force"] = request.Force.ToString(), ["target"] = target.ToString(),
                }),
                cancellationToken);
        }

        var self = LifeboatCommand.Self(Workspace.Environment);
        // When the primary cannot be read and the backup comes from a secondary, recovery reads the WAL from that
        // secondary first too: wal-fetch takes only the first target's "not archived" for the end of the archive.
        string? readFrom = null;
        await using var repository = await _trees.Opener.OpenForReadingAsync(request.From, cancellationToken, n => readFrom = n);
        var walFrom = request.From ?? (readFrom is { } used && used != Configuration.TargetOptions.PrimaryName ? used : null);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var result = await new ClusterRestore(repository, name, options).RunAsync(
            new ClusterRestoreRequest
            {
                Destination = destination,
                BackupId = request.Backup,
                Target = target,
                TargetTimeline = request.TargetTimeline,
                Delta = request.Delta,
                Force = request.Force,
                TablespaceMap = tablespaces,
                TablespaceRoot = request.TablespaceRoot,
                TargetAction = request.TargetAction,
                ArchiveOff = request.ArchiveOff,
                RestoreCommand = LifeboatCommand.RestoreCommand(self, Workspace.Config.Path, name, walFrom),
                Workers = Workspace.WriterOptions.Workers,
            },
            _trees.Progress(),
            cancellationToken);
        return ClusterRestored.From(result, _trees.Seconds(started));
    }

    /// <summary>Object-level restore: a database (or some tables) of a cluster's physical backup, at a point in time, into the live server.</summary>
    private async Task<RestoreSourceResult> RestoreObjectsAsync(string name, ClusterSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.Database is null)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{name}' is a cluster: «into» needs «database» DB, the database of the cluster to copy", $"for example `lifeboat restore --source {name} --database app --into app_restored [--table T]... [--target-time TIME]`");
        }

        if (request.To is not null || request.Path.Count > 0 || request.Overwrite || request.Delta || request.Force && !request.Clean || request.TablespaceMap.Count > 0)
        {
            throw new LifeboatException(ErrorCode.Usage, "an object-level restore from a cluster takes «database», «into», «table», «schemaOnly», «clean» «force», «noOwner», «conn», «scratch», «backup» and a recovery target", $"to restore the whole cluster instead, run `lifeboat restore --source {name} --to DIR`");
        }

        var started = _trees.Time.GetTimestamp();
        var into = DatabaseHandler.Into(request, options.Postgres(), Workspace.Environment, 2);
        if (request.Clean)
        {
            await DatabaseHandler.AuthorizeReplaceAsync(_gate, name, request.Backup ?? "latest", into, cancellationToken);
        }

        var self = LifeboatCommand.Self(Workspace.Environment);
        await using var repository = await _trees.Opener.OpenAsync(cancellationToken);
        var result = await new ObjectRestore(repository, Workspace.PgBinaries, _loggers.CreateLogger<ObjectRestore>()).RunAsync(
            new ObjectRestoreRequest
            {
                SourceName = name,
                Source = options,
                BackupId = request.Backup,
                Target = request.RecoveryTarget(),
                TargetTimeline = request.TargetTimeline,
                Database = request.Database,
                Into = into,
                Scratch = request.Scratch is null ? null : Workspace.ResolvePath(request.Scratch),
                RestoreCommand = LifeboatCommand.RestoreCommand(self, Workspace.Config.Path, name),
                Workers = Workspace.WriterOptions.Workers,
            },
            _trees.Progress(),
            null,
            cancellationToken);
        return DatabaseRestored.From(result.Backup, result.Database, _trees.Seconds(started));
    }
}
