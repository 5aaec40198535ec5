using Lifeboat.Core;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Logical;

/// <summary>
/// Restores a logical backup into a database: the dump's table of contents first, then only the data files the
/// restore needs (all of them, or those of the chosen tables), into a private temporary directory; then pg_restore.
/// </summary>
public sealed class LogicalRestore
{
    private readonly Repo _repo;
    private readonly ChunkIndex _index;
    private readonly PgBinaries _pg;
    private readonly ILogger _logger;

    public LogicalRestore(Repo repository, ChunkIndex index, PgBinaries pg, ILogger logger)
    {
        _repo = repository;
        _pg = pg;
        _index = index;
        _logger = logger;
    }

    /// <summary>The database a logical backup holds and what it is like, from its manifest.</summary>
    public static (string Database, DatabaseInfo Like, DumpContents? Contents) Describe(Manifest manifest)
    {
        var d = DumpDetails.FromDetails(manifest.Details) ?? throw new LifeboatException(ErrorCode.Damage, $"backup {manifest.Id} has no logical backup details");
        return (d.Database, d.Like(), d.Contents);
    }

    /// <summary>Checks the tables asked for against what the backup holds, before anything is restored.</summary>
    public static void CheckTables(Manifest manifest, IReadOnlyList<string> tables)
    {
        var (database, _, contents) = Describe(manifest);
        if (tables.Count == 0 || contents is null)
        {
            return;
        }

        var names = contents.Tables.Concat(contents.Views).ToList();
        foreach (var table in tables)
        {
            var found = table.Contains('.', StringComparison.Ordinal)
                ? names.Contains(table, StringComparer.Ordinal)
                : names.Any(n => n[(n.IndexOf('.', StringComparison.Ordinal) + 1)..] == table);
            if (!found)
            {
                var sample = names.Count == 0 ? "it has no tables" : "it has " + string.Join(", ", names.Take(20)) + (names.Count > 20 ? $" and {names.Count - 20} more" : "");
                throw new LifeboatException(ErrorCode.InvalidInput, $"table '{table}' is not in backup {manifest.Id} of database '{database}' ({sample})", $"name a table the backup holds (`lifeboat info {manifest.Id}` lists them), as name or schema.name");
            }
        }
    }

    public async Task<DatabaseRestoreResult> RunAsync(Manifest manifest, DatabaseRestoreOptions options, string? scratch, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        CheckTables(manifest, options.Tables);
        await DatabaseRestorer.CheckTargetAsync(options, cancellationToken);
        var (database, described, _) = Describe(manifest);
        var like = described.Encoding.Length == 0 ? null : described; // an uploaded dump: the server's defaults
        var work = scratch is null ? Directory.CreateTempSubdirectory("lifeboat-restore-").FullName : CreatePrivate(scratch);
        try
        {
            var files = new FilesRestore(_repo, _index);
            var format = DumpDetails.FromDetails(manifest.Details)?.Format;
            if (format is not (null or DumpFormats.Directory or DumpFormats.Custom or DumpFormats.Plain))
            {
                throw new LifeboatException(ErrorCode.Failed, $"backup {manifest.Id} of database '{database}' is stored in format '{format}', which this Lifeboat does not know how to restore", "restore it with the (newer) Lifeboat that wrote it, or download it (`GET /api/v1/backups/ID/download`)");
            }

            if (format == DumpFormats.Plain)
            {
                // An uploaded SQL script: streamed from the repository into psql's input, every chunk verified as it goes.
                var tar = new TreeTar(_repo, _index);
                return await DatabaseRestorer.RestoreScriptAsync(_pg, (input, ct) => tar.WriteFileAsync(manifest, LogicalUpload.PlainScriptFile, input, ct), like, options, $"backup {manifest.Id} of database '{database}'", cancellationToken);
            }

            if (format == DumpFormats.Custom)
            {
                // An uploaded custom-format dump: one file, which pg_restore reads (and selects tables from) as it is.
                await files.RunAsync(manifest, new FilesRestoreRequest { Destination = work, Paths = [new GlobPattern(LogicalUpload.CustomDumpFile)], Overwrite = true }, progress, cancellationToken);
                var dumpFile = Path.Combine(work, LogicalUpload.CustomDumpFile);
                var fileListing = await PgTools.RunAsync(_pg.Client("pg_restore"), ["-l", "-v", dumpFile], new Dictionary<string, string>(), cancellationToken);
                return await DatabaseRestorer.RestoreAsync(_pg, dumpFile, DumpToc.Parse(fileListing.Output), like, options, $"backup {manifest.Id} of database '{database}'", work, cancellationToken);
            }

            var dumpDir = Path.Combine(work, LogicalBackup.DumpDirectory);
            // The table of contents first: it says which data files the restore needs.
            await files.RunAsync(manifest, new FilesRestoreRequest { Destination = work, Paths = [new GlobPattern(LogicalBackup.DumpDirectory + "/toc.dat")], Overwrite = true }, progress, cancellationToken);
            var listing = await PgTools.RunAsync(_pg.Client("pg_restore"), ["-l", "-v", dumpDir], new Dictionary<string, string>(), cancellationToken);
            var toc = DumpToc.Parse(listing.Output);
            var what = $"backup {manifest.Id} of database '{database}'";
            var relations = options.Tables.Select(t => toc.FindRelation(t, what)).ToList();
            var needed = relations.Count == 0 ? null : toc.Select(relations);
            var dataFiles = needed is null
                ? [new GlobPattern(LogicalBackup.DumpDirectory + "/**")]
                : needed.Where(e => e.Desc == "TABLE DATA").Select(e => new GlobPattern($"{LogicalBackup.DumpDirectory}/{e.DumpId}.dat*")).ToList();
            if (!options.SchemaOnly && dataFiles.Count > 0)
            {
                await files.RunAsync(manifest, new FilesRestoreRequest { Destination = work, Paths = dataFiles, Overwrite = true }, progress, cancellationToken);
            }

            return await DatabaseRestorer.RestoreAsync(_pg, dumpDir, toc, like, options, what, work, cancellationToken);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("could not remove the temporary directory {Directory}: {Error}", work, ex.Message);
            }
        }
    }

    /// <summary>A new directory only this user can read, below <paramref name="parent"/>.</summary>
    internal static string CreatePrivate(string parent)
    {
        Directory.CreateDirectory(parent);
        var path = Path.Combine(parent, "lifeboat-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
