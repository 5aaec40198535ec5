using System.Buffers;
using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Platform;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Logical;

/// <summary>
/// A logical backup of one database: <c>pg_dump</c> in directory format (uncompressed, so that unchanged tables
/// deduplicate against earlier dumps) with parallel jobs, each file read into the repository while pg_dump is still
/// writing it and its disk space released as it is read; plus the cluster's roles and tablespaces from
/// <c>pg_dumpall --globals-only</c>. The tree holds <c>dump/…</c> (a directory pg_restore reads as it is) and
/// <c>globals.sql</c>; the manifest's details say what the dump contains.
/// </summary>
public sealed class LogicalBackup
{
    public const string DumpDirectory = "dump";
    public const string GlobalsFile = "globals.sql";

    private readonly Repo _repo;
    private readonly string _sourceName;
    private readonly DatabaseSourceOptions _source;
    private readonly PgBinaries _pg;
    private readonly ILogger _logger;

    public LogicalBackup(Repo repository, string sourceName, DatabaseSourceOptions source, PgBinaries pg, ILogger logger)
    {
        _repo = repository;
        _pg = pg;
        _sourceName = sourceName;
        _source = source;
        _logger = logger;
    }

    /// <summary>
    /// Checks before anything is written: the database exists and can be read, and pg_dump is at least as new as the
    /// server. Returns what the database is and pg_dump's version.
    /// </summary>
    public static async Task<(DatabaseInfo Database, string PgDumpVersion)> CheckSourceAsync(string sourceName, DatabaseSourceOptions source, PgBinaries pg, CancellationToken cancellationToken)
    {
        DatabaseInfo info;
        await using (var connection = await DatabaseServer.OpenAsync(source.Postgres(), source.Database, $"source '{sourceName}'", cancellationToken))
        {
            info = await DatabaseServer.InfoAsync(connection, cancellationToken);
        }

        var pgDump = pg.Client("pg_dump");
        var (major, text) = await PgTools.VersionAsync(pgDump, cancellationToken);
        if (major < info.ServerMajor)
        {
            throw new LifeboatException(
                ErrorCode.Config,
                $"{pgDump} is version {major}, older than the server of source '{sourceName}' (PostgreSQL {info.ServerVersion}); an older pg_dump cannot dump a newer server",
                $"install pg_dump {info.ServerMajor} or newer (Debian: apt-get install postgresql-client-{info.ServerMajor}) or point {PgBinaries.Variable} at its bin directory");
        }

        return (info, text);
    }

    public async Task<BackupOutcome> RunAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Type is not (null or "full" or "incr"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«type» '{request.Type}' is not a backup type", "a logical backup is always a complete dump (stored deduplicated); omit «type»");
        }

        var (database, pgDumpVersion) = await CheckSourceAsync(_sourceName, _source, _pg, cancellationToken);
        var work = Directory.CreateTempSubdirectory("lifeboat-dump-").FullName;
        try
        {
            await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
            var dumpDir = Path.Combine(work, DumpDirectory);
            Directory.CreateDirectory(dumpDir);
            var environment = _source.Postgres().LibpqEnvironment(_source.Database);
            var files = await DumpAsync(session, dumpDir, environment, progress, cancellationToken);

            // What the dump holds, from its table of contents (toc.dat is kept until here).
            var listing = await PgTools.RunAsync(_pg.Client("pg_restore"), ["-l", "-v", dumpDir], environment, cancellationToken, TimeSpan.FromMinutes(10));
            var toc = DumpToc.Parse(listing.Output);
            CheckComplete(toc, files);

            var problems = new List<string>();
            var (globals, globalsMode) = await DumpGlobalsAsync(environment, problems, cancellationToken);
            var globalsChunks = globals is null ? null : await StoreBytesAsync(session.Writer, globals, cancellationToken);

            var now = _repo.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000;
            var entries = new List<(TreeEntry Entry, Task<ChunkId[]>? Chunks)>
            {
                (DirectoryEntry(""), null),
                (DirectoryEntry(DumpDirectory), null),
            };
            foreach (var file in files.Values)
            {
                entries.Add((new TreeEntry
                {
                    Type = EntryType.File,
                    Path = DumpDirectory + "/" + file.Name,
                    Mode = 0x1A4, // 0644
                    Size = file.Size,
                    MTime = now,
                    CTime = now,
                    Chunking = "cdc",
                }, file.Chunks));
            }

            if (globals is not null)
            {
                entries.Add((new TreeEntry { Type = EntryType.File, Path = GlobalsFile, Mode = 0x180, Size = globals.Length, MTime = now, CTime = now, Chunking = "cdc" }, Task.FromResult(globalsChunks!)));
            }

            foreach (var (entry, chunks) in entries.OrderBy(e => e.Entry.Path, TreeOrder.Instance))
            {
                await session.AddAsync(entry, chunks, cancellationToken);
            }

            var details = new DumpDetails(
                database.Name,
                database.ServerVersion,
                database.ServerVersionNum,
                pgDumpVersion,
                database.Encoding,
                database.Collate,
                database.Ctype,
                database.Owner,
                database.Size,
                _source.SchemaOnly,
                _source.ExcludeTables,
                _source.ExcludeTableData,
                _source.Jobs,
                globalsMode,
                toc.Summary()).ToDetails();
            var bytesRead = files.Values.Sum(f => f.Size) + (globals?.Length ?? 0);
            var manifest = await session.CommitAsync(new ManifestDraft(_sourceName, SourceKinds.Database, null, bytesRead, [database.Name], details, request.TagsWith(problems.Count > 0 ? new Dictionary<string, string> { ["incomplete"] = "globals not dumped" } : null)), cancellationToken);
            progress?.Report(new BackupProgress(manifest.Stats.Files, manifest.Stats.Bytes, bytesRead, manifest.Stats.NewBytes, manifest.Stats.StoredBytes));
            return new BackupOutcome(manifest, problems);
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(work, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogWarning("could not remove the temporary dump directory {Directory}: {Error}", work, ex.Message);
            }
        }

        TreeEntry DirectoryEntry(string path) => new()
        {
            Type = EntryType.Directory,
            Path = path,
            Mode = 0x1C0, // 0700
            MTime = _repo.Time.GetUtcNow().ToUnixTimeMilliseconds() * 1_000_000,
        };
    }

    /// <summary>Runs pg_dump into <paramref name="dumpDir"/> and stores every file it writes while it writes it.</summary>
    private async Task<SortedDictionary<string, DumpFile>> DumpAsync(BackupSession session, string dumpDir, Dictionary<string, string> environment, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-Fd", "-Z", "0", "--no-sync", "-j", _source.Jobs.ToString(CultureInfo.InvariantCulture), "-f", dumpDir };
        if (_source.SchemaOnly)
        {
            args.Add("--schema-only");
        }

        args.AddRange(_source.ExcludeTables.Select(t => "--exclude-table=" + t));
        args.AddRange(_source.ExcludeTableData.Select(t => "--exclude-table-data=" + t));

        var files = new SortedDictionary<string, DumpFile>(StringComparer.Ordinal);
        using var watch = new DirectoryWatch(dumpDir);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Every file pg_dump writes at once is read at once (-j files plus toc.dat and large objects), so pg_dump never waits.
        using var slots = new SemaphoreSlim(_source.Jobs + 2);
        var dump = PgTools.RunAsync(_pg.Client("pg_dump"), args, environment, stop.Token);
        var lastReport = _repo.Time.GetTimestamp();
        try
        {
            while (true)
            {
                var exited = dump.IsCompleted;
                var events = await Task.Run(() => watch.Wait(TimeSpan.FromMilliseconds(exited ? 0 : 100)), cancellationToken);
                foreach (var e in events)
                {
                    switch (e.Kind)
                    {
                        case WatchEventKind.Created:
                            Start(e.Name);
                            break;
                        case WatchEventKind.ClosedAfterWrite:
                            Start(e.Name)?.Stream.MarkComplete();
                            break;
                        case WatchEventKind.Overflow:
                            Rescan();
                            break;
                    }
                }

                if (exited)
                {
                    // pg_dump is gone: whatever it left is complete, whether or not its events were seen.
                    Rescan();
                    foreach (var f in files.Values)
                    {
                        f.Stream.MarkComplete();
                    }

                    break;
                }

                if (progress is not null && _repo.Time.GetElapsedTime(lastReport) > TimeSpan.FromMilliseconds(250))
                {
                    lastReport = _repo.Time.GetTimestamp();
                    var read = files.Values.Sum(f => f.Stream.Position);
                    progress.Report(new BackupProgress(files.Count, read, read, session.Writer.NewBytes, session.Writer.StoredBytes));
                }
            }

            await dump; // throws pg_dump's error
            foreach (var f in files.Values)
            {
                await f.Reading;
            }

            return files;
        }
        catch
        {
            await stop.CancelAsync();
            foreach (var f in files.Values)
            {
                f.Stream.MarkComplete();
            }

            try
            {
                await Task.WhenAll(files.Values.Select(f => f.Reading).Append(dump));
            }
            catch (Exception)
            {
                // the first failure is the one reported
            }

            throw;
        }
        finally
        {
            foreach (var f in files.Values)
            {
                await f.Stream.DisposeAsync();
            }
        }

        void Rescan()
        {
            foreach (var path in System.IO.Directory.EnumerateFiles(dumpDir))
            {
                Start(Path.GetFileName(path));
            }
        }

        DumpFile? Start(string name)
        {
            if (files.TryGetValue(name, out var existing))
            {
                return existing;
            }

            var path = Path.Combine(dumpDir, name);
            GrowingFileStream stream;
            try
            {
                stream = new GrowingFileStream(path) { ReleaseSpace = name != "toc.dat" };
            }
            catch (FileNotFoundException)
            {
                return null; // created and removed again (pg_dump does not, but nothing else may be assumed)
            }

            var file = new DumpFile(name, stream);
            file.Reading = ReadAsync(file, path, slots, session.Writer, stop.Token);
            files[name] = file;
            return file;
        }
    }

    private async Task ReadAsync(DumpFile file, string path, SemaphoreSlim slots, RepositoryWriter writer, CancellationToken cancellationToken)
    {
        await slots.WaitAsync(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(writer.StreamBufferSize);
        try
        {
            var list = writer.BeginList();
            file.Size = await writer.SubmitStreamAsync(list, file.Stream, buffer, cancellationToken);
            file.Chunks = list.CompleteAsync();
            if (file.Name != "toc.dat")
            {
                File.Delete(path);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            slots.Release();
        }
    }

    /// <summary>Every data file the table of contents names must have been stored.</summary>
    private static void CheckComplete(DumpToc toc, SortedDictionary<string, DumpFile> files)
    {
        if (!files.ContainsKey("toc.dat"))
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, "pg_dump finished without writing toc.dat; the backup was not committed");
        }

        var missing = toc.Entries.Where(e => e.Desc == "TABLE DATA" && !files.ContainsKey($"{e.DumpId}.dat")).Select(e => e.QualifiedName).ToList();
        if (missing.Count > 0)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"the dump's table of contents names data files that were not stored: {string.Join(", ", missing.Take(10))}; the backup was not committed");
        }
    }

    /// <summary>
    /// pg_dumpall --globals-only (roles, memberships, tablespaces). Role passwords need a superuser; without one the
    /// roles are dumped without passwords, and when even that is refused the backup notes it and goes on.
    /// </summary>
    private async Task<(byte[]? Globals, string Mode)> DumpGlobalsAsync(Dictionary<string, string> environment, List<string> problems, CancellationToken cancellationToken)
    {
        var baseArgs = new List<string> { "--globals-only", "-l", _source.Database! };
        var result = await ProcessRunner.RunAsync(_pg.Client("pg_dumpall"), baseArgs, null, environment, TimeSpan.FromHours(1), cancellationToken);
        if (result.Success)
        {
            return (Encoding.UTF8.GetBytes(result.Output), "complete");
        }

        if (result.Error.Contains("permission denied", StringComparison.Ordinal))
        {
            result = await ProcessRunner.RunAsync(_pg.Client("pg_dumpall"), baseArgs.Append("--no-role-passwords"), null, environment, TimeSpan.FromHours(1), cancellationToken);
            if (result.Success)
            {
                _logger.LogWarning("source {Source}: roles dumped without their passwords (the connection's user is not a superuser)", _sourceName);
                return (Encoding.UTF8.GetBytes(result.Output), "without role passwords");
            }
        }

        problems.Add($"{GlobalsFile}: pg_dumpall --globals-only failed: {PgTools.Tail(result.Error, 3)}");
        return (null, "failed");
    }

    private async Task<ChunkId[]> StoreBytesAsync(RepositoryWriter writer, byte[] content, CancellationToken cancellationToken)
    {
        var list = writer.BeginList();
        var buffer = ArrayPool<byte>.Shared.Rent(writer.StreamBufferSize);
        try
        {
            await writer.SubmitStreamAsync(list, new MemoryStream(content, writable: false), buffer, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await list.CompleteAsync();
    }

    private sealed class DumpFile(string name, GrowingFileStream stream)
    {
        public string Name { get; } = name;

        public GrowingFileStream Stream { get; } = stream;

        public Task Reading { get; set; } = Task.CompletedTask;

        public Task<ChunkId[]>? Chunks { get; set; }

        public long Size { get; set; }
    }
}
