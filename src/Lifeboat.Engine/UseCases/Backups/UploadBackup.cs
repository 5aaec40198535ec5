using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Logical;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.UseCases.Backups;

/// <summary>The formats an upload can be in (<see cref="UploadBackupRequest.Format"/>).</summary>
public static class UploadFormats
{
    /// <summary>A <c>pg_dump -Fc</c> file (database sources).</summary>
    public const string Custom = "custom";

    /// <summary>A tar of the directory <c>pg_dump -Fd</c> wrote (database sources).</summary>
    public const string DirectoryTar = "directory-tar";

    /// <summary>A plain SQL script (not accepted yet: restore runs pg_restore, which cannot read one).</summary>
    public const string Plain = "plain";

    /// <summary>A tar of files (files sources).</summary>
    public const string Tar = "tar";
}

/// <param name="Body">The upload, read once from start to end (the request body); never buffered whole.</param>
public sealed record UploadBackupRequest(string? Source, string? Format, Stream Body);

/// <summary>
/// `POST /api/v1/backups/uploads`: an external backup streamed into the repository as a backup of a source — a
/// <c>pg_dump</c> (custom format, or a directory-format dump as a tar) for a database source, a tar of files for a
/// files source. It is checked before its manifest is written (bad input commits nothing), tagged
/// <c>uploaded=true</c>, recorded in the run history as a backup (kind <c>upload</c>), cached in the catalog and
/// replicated like any backup; <c>restore</c> works on it as on one Lifeboat took.
/// </summary>
public sealed class UploadBackup : IUseCase<UploadBackupRequest, BackupSourceResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly CatalogCache _cache;
    private readonly Replicator _replicator;
    private readonly ILoggerFactory _loggers;

    public UploadBackup(Workspace workspace, RepositoryOpener opener, Runs runs, CatalogCache cache, Replicator replicator, ILoggerFactory loggers)
    {
        _workspace = workspace;
        _opener = opener;
        _runs = runs;
        _cache = cache;
        _replicator = replicator;
        _loggers = loggers;
    }

    public async Task<BackupSourceResult> ExecuteAsync(UploadBackupRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Source))
        {
            throw new LifeboatException(ErrorCode.Usage, "«source» is required: the source the upload becomes a backup of", "name a database source (for a pg_dump) or a files source (for a tar)");
        }

        var source = _workspace.GetSource(request.Source);
        var format = request.Format ?? (source is DatabaseSourceOptions ? UploadFormats.Custom : UploadFormats.Tar);
        var accepted = source switch
        {
            DatabaseSourceOptions => new[] { UploadFormats.Custom, UploadFormats.DirectoryTar },
            FilesSourceOptions => [UploadFormats.Tar],
            _ => [],
        };
        if (accepted.Length == 0)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«source» '{request.Source}' is a {source.Kind} source; uploads go to database sources (a pg_dump) and files sources (a tar)", "take a backup of it instead (`POST /api/v1/backups`)");
        }

        if (format == UploadFormats.Plain && source is DatabaseSourceOptions)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, "«format» plain is not accepted: a restore loads a dump with pg_restore, which cannot read a plain SQL script", "dump with `pg_dump -Fc` and upload that with «format» custom, or load the script with psql yourself");
        }

        if (!accepted.Contains(format, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«format» '{format}' is not a format a {source.Kind} source takes", $"use {string.Join(" or ", accepted)}");
        }

        var outcome = await _runs.RecordAsync(
            new RunInfo(RunOperations.Backup, "upload", request.Source),
            async () =>
            {
                await using var repository = await _opener.OpenAsync(cancellationToken);
                var backup = new BackupRequest { Type = "full", Writer = _workspace.WriterOptions };
                var result = source switch
                {
                    DatabaseSourceOptions => await UploadDumpAsync(repository, request.Source, format, request.Body, backup, cancellationToken),
                    _ => await UploadFilesAsync(repository, request.Source, ((FilesSourceOptions)source).Path is { } path ? _workspace.ResolvePath(path) : null, request.Body, backup, cancellationToken),
                };
                await _cache.AddAsync(result.Manifest, cancellationToken);
                return result;
            },
            o => new RunFigures(o.Manifest.Stats.BytesRead, o.Manifest.Stats.StoredBytes, o.Manifest.Id, null),
            cancellationToken);
        var (report, error) = await _replicator.AfterBackupAsync(cancellationToken);
        return new BackupSourceResult(BackupView.From(outcome.Manifest), outcome.Problems, report, error);
    }

    private Task<BackupOutcome> UploadDumpAsync(Repo repository, string name, string format, Stream body, BackupRequest backup, CancellationToken cancellationToken)
    {
        var upload = new LogicalUpload(repository, name, _workspace.PgBinaries, _loggers.CreateLogger<LogicalUpload>());
        return format == UploadFormats.Custom ? upload.CustomAsync(body, backup, cancellationToken) : upload.DirectoryTarAsync(body, backup, cancellationToken);
    }

    private static async Task<BackupOutcome> UploadFilesAsync(Repo repository, string name, string? root, Stream body, BackupRequest backup, CancellationToken cancellationToken)
    {
        await using var session = await BackupSession.StartAsync(repository, backup.Writer, cancellationToken);
        var now = repository.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
        var entries = await TarImport.ReadAsync(body, session.Writer, path => path, now, cancellationToken);
        foreach (var e in entries)
        {
            await session.AddAsync(e.Entry, e.Chunks, cancellationToken);
        }

        var bytesRead = entries.Sum(e => e.Entry.Type == Repository.Trees.EntryType.File && e.Entry.HardlinkOf is null ? e.Entry.Size : 0);
        var manifest = await session.CommitAsync(new ManifestDraft(name, SourceKinds.Files, null, bytesRead, root is null ? null : [root], null, backup.TagsWith(new Dictionary<string, string> { ["uploaded"] = "true" })), cancellationToken);
        return new BackupOutcome(manifest, []);
    }
}
