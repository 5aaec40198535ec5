using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

public sealed record RestoreRequest
{
    public required string SourceName { get; init; }

    /// <summary>Read from this target (<c>primary</c> or a secondary) only; null: the primary, else the next target that can be read.</summary>
    public string? From { get; init; }

    /// <summary>A backup id; null for the latest backup of the source.</summary>
    public string? BackupId { get; init; }

    /// <summary>Where to restore; null restores to the original place (requires <see cref="Overwrite"/>).</summary>
    public string? Destination { get; init; }

    public IReadOnlyList<string> Paths { get; init; } = [];

    public bool Overwrite { get; init; }

    // Cluster sources.
    public RecoveryTarget Target { get; init; } = RecoveryTarget.Latest;

    public string? TargetTimeline { get; init; }

    public bool Delta { get; init; }

    public bool Force { get; init; }

    public IReadOnlyDictionary<uint, string> TablespaceMap { get; init; } = new Dictionary<uint, string>();

    /// <summary>Tablespaces not in <see cref="TablespaceMap"/> go to ROOT/OID instead of their original location.</summary>
    public string? TablespaceRoot { get; init; }

    public string TargetAction { get; init; } = "promote";

    public bool ArchiveOff { get; init; }

    // Restores into a database (database sources, and object-level restores from a cluster's physical backup).

    /// <summary>The database to restore (the one a database source dumps, or one of a cluster's databases).</summary>
    public string? Database { get; init; }

    /// <summary>The new database to restore into.</summary>
    public string? Into { get; init; }

    public IReadOnlyList<string> Tables { get; init; } = [];

    public bool SchemaOnly { get; init; }

    public bool Clean { get; init; }

    public bool NoOwner { get; init; }

    /// <summary>The server to restore into (default: the source's own connection).</summary>
    public string? Connection { get; init; }

    /// <summary>Where temporary files (dumps, scratch clusters) go (default: the system's temporary directory).</summary>
    public string? Scratch { get; init; }
}

/// <summary>A finished restore: of a file tree (<see cref="Files"/>) or of a cluster (<see cref="Cluster"/>).</summary>
public sealed record RestoreOutcome(Manifest Manifest, string Destination, FilesRestoreResult? Files, ClusterRestoreResult? Cluster = null, DatabaseRestoreResult? Database = null);

public static class RestoreService
{
    public static async Task<RestoreOutcome> RunAsync(EngineContext context, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var source = context.GetSource(request.SourceName);
        if (request.Into is not null)
        {
            return source.Kind switch
            {
                SourceKinds.Database => await RunLogicalAsync(context, source, request, progress, cancellationToken),
                SourceKinds.Cluster => await RunObjectAsync(context, source, request, progress, cancellationToken),
                _ => throw new LifeboatException(ErrorCode.Usage, $"source '{request.SourceName}' is a {source.Kind} source: --into restores databases", "use --into with a database source (or a cluster source with --database)"),
            };
        }

        if (request.Database is not null || request.Tables.Count > 0 || request.SchemaOnly || request.Clean || request.NoOwner || request.Connection is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, "--database, --table, --schema-only, --clean, --no-owner and --conn restore into a database", "add --into NEW_DB (the database to create)");
        }

        if (source.Kind == SourceKinds.Cluster)
        {
            return await RunClusterAsync(context, source, request, progress, cancellationToken);
        }

        if (request.Target.Kind != RecoveryTargetKind.Latest || request.TargetTimeline is not null || request.Delta || request.Force)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{request.SourceName}' is a {source.Kind} source: recovery targets, --delta and --force apply to clusters", "restore a file tree with --to DIR [--backup ID] [--path GLOB]... [--overwrite]");
        }

        var globs = request.Paths.Select(p => source.Kind == SourceKinds.Config ? ConfigRestore.Glob(p) : new GlobPattern(p)).ToList();
        await using var repository = await context.OpenRepositoryForReadingAsync(request.From, cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var manifest = await FindBackupAsync(repository, request.SourceName, request.BackupId, cancellationToken);
        if (source.Kind == SourceKinds.Config)
        {
            return await RunConfigAsync(context, repository, manifest, request, globs, progress, cancellationToken);
        }

        string destination;
        if (request.Destination is not null)
        {
            destination = context.ResolvePath(request.Destination);
        }
        else if (request.Overwrite && manifest.Paths is [var original])
        {
            destination = original;
        }
        else
        {
            throw new LifeboatException(ErrorCode.Usage, "restore needs --to DIR", $"restore into a new directory with --to DIR; to restore over the original place ({manifest.Paths?.FirstOrDefault() ?? "unknown"}) pass --overwrite");
        }

        var index = await repository.LoadIndexAsync(cancellationToken);
        var result = await new FilesRestore(repository, index).RunAsync(
            manifest,
            new FilesRestoreRequest { Destination = destination, Paths = globs, Overwrite = request.Overwrite, Workers = context.WriterOptions.Workers },
            progress,
            cancellationToken);
        return new RestoreOutcome(manifest, destination, result);
    }

    private static async Task<RestoreOutcome> RunClusterAsync(EngineContext context, SourceOptions source, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Destination is null)
        {
            throw new LifeboatException(ErrorCode.Usage, "restore of a cluster needs --to DIR", "restore into a new data directory with --to DIR; to rewrite an existing one, add --delta (it must not be running)");
        }

        if (request.Paths.Count > 0 || request.Overwrite)
        {
            throw new LifeboatException(ErrorCode.Usage, "--path and --overwrite apply to file-tree sources", "for a cluster use --delta or --force");
        }

        var self = LifeboatCommand.Self(context.Environment);
        await using var repository = await context.OpenRepositoryForReadingAsync(request.From, cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var result = await new ClusterRestore(repository, request.SourceName, source).RunAsync(
            new ClusterRestoreRequest
            {
                Destination = context.ResolvePath(request.Destination),
                BackupId = request.BackupId,
                Target = request.Target,
                TargetTimeline = request.TargetTimeline,
                Delta = request.Delta,
                Force = request.Force,
                TablespaceMap = request.TablespaceMap,
                TablespaceRoot = request.TablespaceRoot,
                TargetAction = request.TargetAction,
                ArchiveOff = request.ArchiveOff,
                RestoreCommand = LifeboatCommand.RestoreCommand(self, context.ConfigFile.Path, request.SourceName, request.From),
                Workers = context.WriterOptions.Workers,
            },
            progress,
            cancellationToken);
        return new RestoreOutcome(result.Backup, result.Destination, null, result);
    }

    private static async Task<RestoreOutcome> RunConfigAsync(EngineContext context, Repo repository, Manifest manifest, RestoreRequest request, List<GlobPattern> globs, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        // Without --to a config set goes to a private review directory; only --overwrite puts it back in place.
        string? destination = request.Destination is not null ? context.ResolvePath(request.Destination)
            : request.Overwrite ? null
            : context.ResolvePath(ConfigRestore.ReviewDirectoryName(manifest));
        var index = await repository.LoadIndexAsync(cancellationToken);
        var result = await ConfigRestore.RunAsync(repository, index, manifest, destination, globs, request.Overwrite, context.WriterOptions.Workers, progress, cancellationToken);
        return new RestoreOutcome(manifest, destination ?? "/", result);
    }

    private static async Task<RestoreOutcome> RunLogicalAsync(EngineContext context, SourceOptions source, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Destination is not null || request.Paths.Count > 0 || request.Overwrite || request.Delta || request.Force && !request.Clean || request.Target.Kind is not (RecoveryTargetKind.Latest or RecoveryTargetKind.Time))
        {
            throw new LifeboatException(ErrorCode.Usage, "a restore into a database takes --database, --into, --table, --schema-only, --clean --force, --no-owner, --conn, --backup or --target-time", $"to get the dump's files instead, run `lifeboat restore --source {request.SourceName} --to DIR`");
        }

        if (request.BackupId is not null && request.Target.Kind == RecoveryTargetKind.Time)
        {
            throw new LifeboatException(ErrorCode.Usage, "--backup and --target-time both choose the dump to restore", "give one of them: --backup ID, or --target-time TIME for the latest dump finished by then");
        }

        await using var repository = await context.OpenRepositoryForReadingAsync(request.From, cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
        var manifest = request.Target.Time is { } time
            ? await FindBackupBeforeAsync(repository, request.SourceName, time, cancellationToken)
            : await FindBackupAsync(repository, request.SourceName, request.BackupId, cancellationToken);
        var (database, _, _) = LogicalRestore.Describe(manifest);
        if (request.Database is not null && request.Database != database)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"source '{request.SourceName}' dumps database '{database}', not '{request.Database}'", $"use --database {database}, or omit --database");
        }

        var index = await repository.LoadIndexAsync(cancellationToken);
        var result = await new LogicalRestore(repository, index, context.LoggerFactory.CreateLogger("Lifeboat.Logical")).RunAsync(
            manifest,
            new DatabaseRestoreOptions
            {
                Connection = request.Connection ?? source.Connection!,
                Into = request.Into!,
                Tables = request.Tables,
                SchemaOnly = request.SchemaOnly,
                Clean = request.Clean,
                Force = request.Force,
                NoOwner = request.NoOwner,
                Jobs = source.Jobs,
            },
            request.Scratch is null ? null : context.ResolvePath(request.Scratch),
            progress,
            cancellationToken);
        return new RestoreOutcome(manifest, result.Database, null, null, result);
    }

    /// <summary>Object-level restore: a database (or some tables) of a cluster's physical backup, at a point in time, into the live server.</summary>
    private static async Task<RestoreOutcome> RunObjectAsync(EngineContext context, SourceOptions source, RestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Database is null)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{request.SourceName}' is a cluster: --into needs --database DB, the database of the cluster to copy", $"for example `lifeboat restore --source {request.SourceName} --database app --into app_restored [--table T]... [--target-time TIME]`");
        }

        if (request.Destination is not null || request.Paths.Count > 0 || request.Overwrite || request.Delta || request.Force && !request.Clean || request.TablespaceMap.Count > 0)
        {
            throw new LifeboatException(ErrorCode.Usage, "an object-level restore from a cluster takes --database, --into, --table, --schema-only, --clean --force, --no-owner, --conn, --scratch, --backup and a recovery target", $"to restore the whole cluster instead, run `lifeboat restore --source {request.SourceName} --to DIR`");
        }

        var self = LifeboatCommand.Self(context.Environment);
        await using var repository = await context.OpenRepositoryAsync(cancellationToken);
        var result = await new ObjectRestore(repository, context.LoggerFactory.CreateLogger("Lifeboat.Restore")).RunAsync(
            new ObjectRestoreRequest
            {
                SourceName = request.SourceName,
                Source = source,
                BackupId = request.BackupId,
                Target = request.Target,
                TargetTimeline = request.TargetTimeline,
                Database = request.Database,
                Into = new DatabaseRestoreOptions
                {
                    Connection = request.Connection ?? source.Connection!,
                    Into = request.Into!,
                    Tables = request.Tables,
                    SchemaOnly = request.SchemaOnly,
                    Clean = request.Clean,
                    Force = request.Force,
                    NoOwner = request.NoOwner,
                    Jobs = source.Jobs,
                },
                Scratch = request.Scratch is null ? null : context.ResolvePath(request.Scratch),
                RestoreCommand = LifeboatCommand.RestoreCommand(self, context.ConfigFile.Path, request.SourceName),
                Workers = context.WriterOptions.Workers,
            },
            progress,
            null,
            cancellationToken);
        return new RestoreOutcome(result.Backup, result.Database.Database, null, null, result.Database);
    }

    /// <summary>The newest backup of the source that finished at or before <paramref name="time"/>.</summary>
    public static async Task<Manifest> FindBackupBeforeAsync(Repo repository, string sourceName, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var mine = manifests.Where(m => m.Source == sourceName).OrderBy(m => m.Finished).ToList();
        return mine.LastOrDefault(m => m.Finished <= time)
            ?? throw new LifeboatException(ErrorCode.InvalidInput, $"source '{sourceName}' has no backup finished at or before {time:yyyy-MM-dd HH:mm:ss zzz}" + (mine.Count > 0 ? $" (the oldest finished {mine[0].Finished:yyyy-MM-dd HH:mm:ss zzz})" : ""), $"`lifeboat list --source {sourceName}` shows its backups");
    }

    /// <summary>The backup named by id (it must belong to the source), or the latest backup of the source.</summary>
    public static async Task<Manifest> FindBackupAsync(Repo repository, string sourceName, string? backupId, CancellationToken cancellationToken)
    {
        if (backupId is not null)
        {
            var manifest = await repository.LoadManifestAsync(backupId, cancellationToken);
            if (manifest.Source != sourceName)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"backup {backupId} belongs to source '{manifest.Source}', not '{sourceName}'", $"use --source {manifest.Source}, or `lifeboat list --source {sourceName}` to see the backups of '{sourceName}'");
            }

            return manifest;
        }

        return await FilesBackup.FindParentAsync(repository, sourceName, cancellationToken)
               ?? throw new LifeboatException(ErrorCode.NotFound, $"source '{sourceName}' has no backup in {repository.DisplayName}", $"run `lifeboat backup --source {sourceName}` first");
    }
}
