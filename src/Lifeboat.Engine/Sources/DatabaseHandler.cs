using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Recovery;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>One database: pg_dump in directory format, deduplicated across dumps; restored with pg_restore.</summary>
public sealed class DatabaseHandler : SourceHandler<DatabaseSourceOptions>
{
    private readonly TreeRestores _trees;
    private readonly IApprovalGate _gate;
    private readonly ILoggerFactory _loggers;

    public DatabaseHandler(TreeRestores trees, IApprovalGate gate, ILoggerFactory loggers)
    {
        _trees = trees;
        _gate = gate;
        _loggers = loggers;
    }

    public override string Kind => SourceKinds.Database;

    public override int StackOrder => 0;

    protected override SourceSummary Summarize(string name, DatabaseSourceOptions options)
        => new(name, Kind, null, null, options.Database, [], [], $"database {options.Database}" + (options.SchemaOnly ? " (schema only)" : ""));

    protected override async Task CheckBeforeBackupAsync(string name, DatabaseSourceOptions options, CancellationToken cancellationToken)
        => await LogicalBackup.CheckSourceAsync(name, options, _trees.Workspace.PgBinaries, cancellationToken);

    protected override Task<BackupOutcome> BackupAsync(string name, DatabaseSourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
        => new LogicalBackup(repository, name, options, _trees.Workspace.PgBinaries, _loggers.CreateLogger<LogicalBackup>()).RunAsync(request, progress, cancellationToken);

    /// <summary>
    /// A dump stores about what the previous one did (its chunks deduplicate against it); a first one, half of the
    /// database's size. At most, the database's size.
    /// </summary>
    protected override async Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, DatabaseSourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken)
    {
        await using var connection = await DatabaseServer.OpenAsync(options.Postgres(), options.Database, $"source '{name}'", cancellationToken);
        var info = await DatabaseServer.InfoAsync(connection, cancellationToken);
        return previous is null
            ? Operations.SpaceEstimate.HalfOf(info.Size, $"the database's {ByteSize.Format(info.Size)}, for a first backup")
            : new Operations.SpaceEstimate(previous.Stats.StoredBytes, Math.Max(info.Size, previous.Stats.StoredBytes), $"backup {previous.Id} stored {ByteSize.Format(previous.Stats.StoredBytes)}");
    }

    protected override async Task CheckAsync(string name, DatabaseSourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken)
        => results.Add(await LogicalChecks.CheckAsync(repository, name, options, _trees.Workspace.PgBinaries, this, cancellationToken));

    /// <summary>With «into»: into a database (created, or replaced with «clean» «force»); without: the dump's files into «to».</summary>
    protected override Task<RestoreSourceResult> RestoreAsync(string name, DatabaseSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.Into is null)
        {
            TreeRestores.RefuseClusterAndDatabaseFields(name, Kind, request);
            return _trees.RestoreTreeAsync(name, request, cancellationToken);
        }

        return RestoreIntoDatabaseAsync(name, options, request, cancellationToken);
    }

    private async Task<RestoreSourceResult> RestoreIntoDatabaseAsync(string name, DatabaseSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        var target = request.RecoveryTarget();
        if (request.To is not null || request.Path.Count > 0 || request.Overwrite || request.Delta || request.Force && !request.Clean || target.Kind is not (RecoveryTargetKind.Latest or RecoveryTargetKind.Time))
        {
            throw new LifeboatException(ErrorCode.Usage, "a restore into a database takes «database», «into», «table», «schemaOnly», «clean» «force», «noOwner», «conn», «backup» or «targetTime»", $"to get the dump's files instead, run `lifeboat restore --source {name} --to DIR`");
        }

        if (request.Backup is not null && target.Kind == RecoveryTargetKind.Time)
        {
            throw new LifeboatException(ErrorCode.Usage, "«backup» and «targetTime» both choose the dump to restore", "give one of them: «backup» ID, or «targetTime» TIME for the latest dump finished by then");
        }

        var started = _trees.Time.GetTimestamp();
        await using var repository = await _trees.Opener.OpenForReadingAsync(request.From, cancellationToken);
        await using var repositoryLock = await Repository.Locks.RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var manifest = target.Time is { } time
            ? await Backups.FindBeforeAsync(repository, name, time, cancellationToken)
            : await Backups.FindAsync(repository, name, request.Backup, cancellationToken);
        var (database, _, _) = LogicalRestore.Describe(manifest);
        if (request.Database is not null && request.Database != database)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"source '{name}' dumps database '{database}', not '{request.Database}'", $"use «database» {database}, or leave «database» out");
        }

        var into = Into(request, options.Postgres(), _trees.Workspace.Environment, options.Jobs);
        if (request.Clean)
        {
            await AuthorizeReplaceAsync(_gate, name, manifest.Id, into, cancellationToken);
        }

        var index = await repository.LoadIndexAsync(cancellationToken);
        var result = await new LogicalRestore(repository, index, _trees.Workspace.PgBinaries, _loggers.CreateLogger<LogicalRestore>()).RunAsync(
            manifest,
            into,
            request.Scratch is null ? null : _trees.Workspace.ResolvePath(request.Scratch),
            _trees.Progress(),
            cancellationToken);
        return DatabaseRestored.From(manifest, result, _trees.Seconds(started));
    }

    /// <summary>Where a database restore goes: «conn» or the source's server, the new name, and what to restore.</summary>
    internal static DatabaseRestoreOptions Into(RestoreSourceRequest request, PgConnection sourceConnection, IReadOnlyDictionary<string, string?> environment, int jobs) => new()
    {
        Connection = request.Conn is null ? sourceConnection : PgConnection.Resolve(request.Conn, environment, FieldText.Ref("conn")),
        Into = request.Into!,
        Tables = request.Table,
        SchemaOnly = request.SchemaOnly,
        Clean = request.Clean,
        Force = request.Force,
        NoOwner = request.NoOwner,
        Jobs = jobs,
    };

    /// <summary>Restoring over an existing database («clean» «force») is destructive: the approval gate decides.</summary>
    internal static Task AuthorizeReplaceAsync(IApprovalGate gate, string name, string backup, DatabaseRestoreOptions into, CancellationToken cancellationToken)
        => gate.AuthorizeAsync(
            new DestructiveOperation(DestructiveOperations.RestoreOverwrite, name, $"restore backup {backup} of '{name}' over the existing database '{into.Into}'", new Dictionary<string, string?> { ["backup"] = backup, ["into"] = into.Into, ["clean"] = "true", ["table"] = string.Join(",", into.Tables) }),
            cancellationToken);
}
