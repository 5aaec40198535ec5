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

    /// <summary>A plain SQL script, <c>pg_dump -Fp</c> (database sources); restore runs it with psql.</summary>
    public const string Plain = "plain";

    /// <summary>A tar of files (files sources).</summary>
    public const string Tar = "tar";
}

/// <param name="Body">The upload, read once from start to end (the request body); never buffered whole.</param>
/// <param name="Length">Its length when the client said it (Content-Length): checked against the tenant's stored-bytes quota before anything is read.</param>
public sealed record UploadBackupRequest(string? Source, string? Format, Stream Body, long? Length = null);

/// <summary>
/// `POST /api/v1/backups/uploads`: an external backup streamed into the repository as a backup of a source — a
/// <c>pg_dump</c> (custom format, a directory-format dump as a tar, or a plain SQL script) for a database source, a tar
/// of files for a files source; its format told from its first bytes (gzip and zstd are decompressed first). It is checked before its manifest is written (bad input commits nothing), tagged
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
    private readonly TenantQuotas _quotas;

    public UploadBackup(Workspace workspace, RepositoryOpener opener, Runs runs, CatalogCache cache, Replicator replicator, ILoggerFactory loggers, TenantQuotas quotas)
    {
        _quotas = quotas;
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
        var accepted = source switch
        {
            DatabaseSourceOptions => new[] { UploadFormats.Custom, UploadFormats.DirectoryTar, UploadFormats.Plain },
            FilesSourceOptions => [UploadFormats.Tar],
            _ => [],
        };
        if (accepted.Length == 0)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«source» '{request.Source}' is a {source.Kind} source; uploads go to database sources (a pg_dump) and files sources (a tar)", "take a backup of it instead (`POST /api/v1/backups`)");
        }

        if (request.Format is { } named && !accepted.Contains(named, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«format» '{named}' is not a format a {source.Kind} source takes", $"use {string.Join(" or ", accepted)}, or leave «format» out: it is told from the content");
        }

        // The stored-bytes quota: an upload is estimated at its size as sent (a dump is compressed already; a plain
        // script or a tar compresses about as well as gzip does). Checked before anything is read when the length is
        // known, and while it is read either way, so a client that sends more than it said (or no length) is stopped
        // before its manifest is written.
        var operation = $"upload to '{request.Source}'";
        var body = request.Body;
        if (await _quotas.EnsureStoredAsync(() => Task.FromResult(new SpaceEstimate(request.Length ?? 0, request.Length ?? 0, "the upload's length")), operation, cancellationToken) is { } quota)
        {
            body = new QuotaLimitedStream(body, quota.Headroom, read => _quotas.StoredExceededAsync(quota, read, operation, cancellationToken));
        }

        // The format is the content's (its first bytes), never a file name's; «format», when given, must agree.
        var sniffed = await UploadSniffer.SniffAsync(body, cancellationToken);
        var format = (source, sniffed.Kind) switch
        {
            (DatabaseSourceOptions, UploadSniffer.Custom) => UploadFormats.Custom,
            (DatabaseSourceOptions, UploadSniffer.Tar) => UploadFormats.DirectoryTar,
            (DatabaseSourceOptions, UploadSniffer.Plain) => UploadFormats.Plain,
            (FilesSourceOptions, UploadSniffer.Tar) => UploadFormats.Tar,
            _ => null,
        };
        if (format is null)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«body» is {sniffed.Found}, which a {source.Kind} source does not take: it takes {Describe(source)}; nothing was stored", source is DatabaseSourceOptions ? "send the file pg_dump wrote (`pg_dump -Fc`, `pg_dump -Fp`, or a tar of a `pg_dump -Fd` directory), gzip- or zstd-compressed or not" : "send a tar of the files (`tar -cf - -C DIR .`), gzip- or zstd-compressed or not");
        }

        if (request.Format is { } given && given != format)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«body» is {sniffed.Found}, not «format» {given}; nothing was stored", $"leave «format» out (it is told from the content), or send the file «format» {given} names");
        }

        var outcome = await _runs.RecordAsync(
            new RunInfo(RunOperations.Backup, "upload", request.Source),
            async () =>
            {
                await using var repository = await _opener.OpenAsync(cancellationToken);
                var backup = new BackupRequest { Type = "full", Writer = _workspace.WriterOptions };
                var result = source switch
                {
                    DatabaseSourceOptions db => await UploadDumpAsync(repository, request.Source, db.Database ?? "", format, sniffed, backup, cancellationToken),
                    _ => await UploadFilesAsync(repository, request.Source, ((FilesSourceOptions)source).Path is { } path ? _workspace.ResolvePath(path) : null, sniffed.Content, backup, cancellationToken),
                };
                await _cache.AddAsync(result.Manifest, cancellationToken);
                return result;
            },
            o => new RunFigures(o.Manifest.Stats.BytesRead, o.Manifest.Stats.StoredBytes, o.Manifest.Id, null),
            cancellationToken);
        var (report, error) = await _replicator.AfterBackupAsync(cancellationToken);
        return new BackupSourceResult(BackupView.From(outcome.Manifest), outcome.Problems, report, error);
    }

    private static string Describe(SourceOptions source) => source is DatabaseSourceOptions
        ? "a pg_dump custom-format archive (pg_dump -Fc), a tar of a directory-format dump (pg_dump -Fd) or a plain SQL script (pg_dump -Fp), each also gzip- or zstd-compressed"
        : "a tar of files (ustar, pax, GNU or v7), also gzip- or zstd-compressed";

    private Task<BackupOutcome> UploadDumpAsync(Repo repository, string name, string database, string format, SniffedUpload body, BackupRequest backup, CancellationToken cancellationToken)
    {
        var upload = new LogicalUpload(repository, name, _workspace.PgBinaries, _loggers.CreateLogger<LogicalUpload>());
        return format switch
        {
            UploadFormats.Custom => upload.CustomAsync(body.Content, backup, cancellationToken),
            UploadFormats.Plain => upload.PlainAsync(body.Content, database, body.Head, backup, cancellationToken),
            _ => upload.DirectoryTarAsync(body.Content, backup, cancellationToken),
        };
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
