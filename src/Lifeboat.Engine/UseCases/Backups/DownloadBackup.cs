using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Logical;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.UseCases.Backups;

public sealed record DownloadBackupRequest(string Backup);

/// <summary>
/// A backup ready to stream (its manifest is loaded, so an unknown id fails before anything is sent): what it is,
/// the file name and media type to offer, and <see cref="WriteToAsync"/>. Holds the repository and a shared lock
/// (prune waits) until disposed.
/// </summary>
public sealed class BackupDownload : IAsyncDisposable
{
    private readonly Repo _repository;
    private readonly RepositoryLock _lock;
    private readonly ILogger _logger;

    internal BackupDownload(Repo repository, RepositoryLock repositoryLock, Manifest manifest, string fileName, string contentType, long? length, string? singleFile, ILogger logger)
    {
        _repository = repository;
        _lock = repositoryLock;
        Manifest = manifest;
        FileName = fileName;
        ContentType = contentType;
        Length = length;
        SingleFile = singleFile;
        _logger = logger;
    }

    public Manifest Manifest { get; }

    /// <summary>What a client saves it as: <c>ID-SOURCE.tar</c>, <c>ID-SOURCE.dump.tar</c> for a database backup, <c>ID-SOURCE.dump</c> for an uploaded custom-format dump, <c>ID-SOURCE.sql</c> for an uploaded SQL script.</summary>
    public string FileName { get; }

    public string ContentType { get; }

    /// <summary>The exact length when it is known before streaming (a stored custom-format dump), else null.</summary>
    public long? Length { get; }

    /// <summary>The tree path streamed as it is (no tar around it), or null for a tar of the whole tree.</summary>
    public string? SingleFile { get; }

    /// <summary>
    /// Streams the backup to <paramref name="output"/>. Every chunk is verified as it is read; a damaged one stops the
    /// stream with a <see cref="DamageException"/> (logged), so the receiver sees a truncated transfer.
    /// </summary>
    public async Task<long> WriteToAsync(Stream output, CancellationToken cancellationToken)
    {
        var index = await _repository.LoadIndexAsync(cancellationToken);
        var tar = new TreeTar(_repository, index);
        try
        {
            if (SingleFile is { } path)
            {
                return await tar.WriteFileAsync(Manifest, path, output, cancellationToken);
            }

            await tar.WriteAsync(Manifest, output, null, cancellationToken);
            return tar.Bytes;
        }
        catch (LifeboatException ex)
        {
            _logger.LogError("download of backup {Backup} stopped after {Bytes} bytes of file contents: {Error}", Manifest.Id, tar.Bytes, ex.Message);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.DisposeAsync();
        await _repository.DisposeAsync();
    }
}

/// <summary>
/// `GET /api/v1/backups/{id}/download` (and `lifeboat download`): a backup as one stream, never held in memory. A
/// logical backup is stored as a directory-format dump (LogicalBackup: <c>dump/…</c> and <c>globals.sql</c>), so it
/// comes as a tar of that tree — extract it and run <c>pg_restore -d DB dump</c>; an uploaded custom-format dump comes
/// as the <c>.dump</c> file it was, an uploaded SQL script as the <c>.sql</c> script (decompressed, when it was uploaded compressed). Files, config and cluster backups (<c>pgdata/</c>, <c>tablespaces/</c>) come as a
/// pax tar of their tree as stored.
/// </summary>
public sealed class DownloadBackup : IUseCase<DownloadBackupRequest, BackupDownload>
{
    public const string TarType = "application/x-tar";
    public const string DumpType = "application/vnd.postgresql.pg-dump";
    public const string SqlType = "application/sql";

    private readonly RepositoryOpener _opener;
    private readonly ILogger<DownloadBackup> _logger;

    public DownloadBackup(RepositoryOpener opener, ILogger<DownloadBackup> logger)
    {
        _opener = opener;
        _logger = logger;
    }

    public async Task<BackupDownload> ExecuteAsync(DownloadBackupRequest request, CancellationToken cancellationToken)
    {
        if (!BackupId.IsValid(request.Backup))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"«backup» '{request.Backup}' is not a backup id", "backup ids look like 20261122-140300-3f9a; `GET /api/v1/backups` lists them");
        }

        var repository = await _opener.OpenAsync(cancellationToken);
        RepositoryLock? repositoryLock = null;
        try
        {
            var manifest = await repository.LoadManifestAsync(request.Backup, cancellationToken);
            repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "download", cancellationToken);
            var stem = $"{manifest.Id}-{Safe(manifest.Source)}";
            var format = manifest.Kind == SourceKinds.Database ? DumpDetails.FromDetails(manifest.Details)?.Format : null;
            if (format == DumpFormats.Plain)
            {
                return new BackupDownload(repository, repositoryLock, manifest, stem + ".sql", SqlType, manifest.Stats.Bytes, LogicalUpload.PlainScriptFile, _logger);
            }

            if (format == DumpFormats.Custom)
            {
                var size = LogicalUpload.CustomDumpSize(manifest);
                return new BackupDownload(repository, repositoryLock, manifest, stem + ".dump", DumpType, size, LogicalUpload.CustomDumpFile, _logger);
            }

            return new BackupDownload(repository, repositoryLock, manifest, stem + (manifest.Kind == SourceKinds.Database ? ".dump.tar" : ".tar"), TarType, null, null, _logger);
        }
        catch
        {
            if (repositoryLock is not null)
            {
                await repositoryLock.DisposeAsync();
            }

            await repository.DisposeAsync();
            throw;
        }
    }

    private static string Safe(string name) => new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
