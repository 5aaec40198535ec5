using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Platform;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Layout;
using Lifeboat.Postgres.Pages;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Tools;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;
using Microsoft.Extensions.Logging;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Cluster;

/// <summary>
/// A physical backup of a PostgreSQL cluster: non-exclusive pg_backup_start/stop on one held connection, files read by
/// parallel readers, relation files cut into fixed-size blocks (so an incremental stores only the changed blocks) with
/// their page checksums validated, then a wait until the WAL up to the stop LSN is archived. Only then is the manifest
/// written: a backup exists only when it can be restored.
/// </summary>
public sealed partial class ClusterBackup
{
    private const int ReadBufferSize = 1 << 20;
    private readonly Repo _repo;
    private readonly string _sourceName;
    private readonly ClusterSourceOptions _source;
    private readonly ILogger _logger;

    public ClusterBackup(Repo repository, string sourceName, ClusterSourceOptions source, ILogger logger)
    {
        _repo = repository;
        _sourceName = sourceName;
        _source = source;
        _logger = logger;
    }

    /// <summary>Checks what can be checked before anything is written: the data directory and pg_control.</summary>
    public static PgControl CheckSource(string sourceName, ClusterSourceOptions source)
    {
        var control = PgControl.Read(source.PgData!);
        if (control.SystemIdentifier != source.SystemIdValue())
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the data directory {source.PgData} belongs to the cluster {control.SystemIdentifier}, but source '{sourceName}' was added for the cluster {source.SystemIdentifier}", "if the cluster was re-created, add it as a new source with `lifeboat source add-cluster`");
        }

        return control;
    }

    public async Task<BackupOutcome> RunAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Type is not (null or "full" or "incr"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«type» '{request.Type}' is not a backup type", "use «type» full or «type» incr");
        }

        var control = CheckSource(_sourceName, _source);
        await using var server = await PgServer.ConnectAsync(_source.Postgres(), cancellationToken);
        var info = await server.GetInfoAsync(cancellationToken);
        CheckServer(info, control);
        var archive = new WalArchive(_repo, _sourceName, info.SystemIdentifier, info.WalSegmentSize);

        await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
        var parent = request.Type == "full" ? null : await Backups.LatestAsync(_repo, _sourceName, cancellationToken, m => ClusterBackupInfo.FromDetails(m.Details)?.SystemId == info.SystemIdentifier);
        var (start, timeline) = await server.StartBackupAsync($"lifeboat backup {session.BackupId}", info.Major, cancellationToken);
        var startTime = _repo.Time.GetUtcNow();
        LogStarted(_logger, _sourceName, start.ToString(), session.BackupId);

        var problems = new List<string>();
        var checksumErrors = new ConcurrentBag<string>();
        long bytesRead = 0;
        long unchanged = 0;
        BackupStop stop;
        List<Tablespace> tablespaces = [];
        try
        {
            tablespaces = await server.GetTablespacesAsync(cancellationToken);
            var entries = ClusterLayout.Walk(_source.PgData!, tablespaces, problems);
            var validator = info.DataChecksums ? new PageValidator(control.BlockSize, start.Value, (uint)control.SegmentBlocks) : null;

            // Readers take files in tree order; entries enter the tree in the same order as their chunks complete.
            using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var work = Channel.CreateUnbounded<(ClusterEntry Entry, TreeEntry Tree, ChunkList List, TaskCompletionSource<ChunkId[]> Done)>(new UnboundedChannelOptions { SingleWriter = true });
            var readerCount = Math.Max(1, request.Writer.Workers);
            var readers = Enumerable.Range(0, readerCount).Select(reader => Task.Run(async () =>
            {
                try
                {
                    await foreach (var (entry, tree, list, done) in work.Reader.ReadAllAsync(failure.Token))
                    {
                        var read = await ReadFileAsync(session.Writer, entry, list, entry.IsRelation ? validator : null, checksumErrors, failure.Token);
                        // The file may have grown or shrunk since it was listed (the server is running): record what was read.
                        tree.Size = read;
                        _ = list.CompleteAsync().ContinueWith(t => done.TrySetFromTask(t), TaskScheduler.Default);
                        var total = Interlocked.Add(ref bytesRead, read);
                        progress?.Report(new BackupProgress(session.Files, session.Bytes, total, session.Writer.NewBytes, session.Writer.StoredBytes));
                    }
                }
                catch
                {
                    // Stop everyone: the entry loop may be waiting for a file this reader will never finish.
                    await failure.CancelAsync();
                    throw;
                }
            }, CancellationToken.None)).ToList();

            try
            {
                using var parentReader = parent is null ? null : new ChunkReader(_repo, session.Index);
                await using var parentTree = parent is null ? null : new ParentTree(TreeReader.ReadAsync(parentReader!, parent, failure.Token));
                foreach (var entry in entries)
                {
                    var tree = ToTreeEntry(entry);
                    if (entry.Kind != ClusterEntryKind.File)
                    {
                        await session.AddAsync(tree, null, failure.Token);
                        continue;
                    }

                    var previous = parentTree is null ? null : await parentTree.FindAsync(entry.TreePath);
                    if (previous is not null && Unchanged(previous, entry.Stat))
                    {
                        tree.Chunks = previous.Chunks;
                        unchanged++;
                        await session.AddAsync(tree, null, failure.Token);
                        continue;
                    }

                    var done = new TaskCompletionSource<ChunkId[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                    work.Writer.TryWrite((entry, tree, session.Writer.BeginList(), done));
                    await session.AddAsync(tree, done.Task, failure.Token);
                }
            }
            catch (OperationCanceledException) when (failure.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A reader failed; its exception is reported below.
            }

            work.Writer.TryComplete();
            await Task.WhenAll(readers);
        }
        finally
        {
            // The backup is tied to this session: stop it whatever happened, so the server does not keep it open.
            stop = await server.StopBackupAsync(info.Major, CancellationToken.None);
        }

        var stopTime = _repo.Time.GetUtcNow();
        var stopNextXid = await server.NextXidAsync(cancellationToken);
        var rowCounts = await CountRowsAsync(server, cancellationToken);
        var startWal = WalFileName.SegmentOf(timeline, start, info.WalSegmentSize);
        var stopWal = WalFileName.SegmentOf(timeline, new Lsn(stop.StopLsn.Value - 1), info.WalSegmentSize);
        await WaitForWalAsync(server, archive, timeline, start, stop.StopLsn, info.WalSegmentSize, cancellationToken);

        var errors = checksumErrors.Order(StringComparer.Ordinal).ToList();
        var details = new ClusterBackupInfo
        {
            SystemIdentifier = info.SystemIdentifier.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ServerVersion = info.VersionNum,
            ServerVersionText = info.Version,
            CatalogVersion = control.CatalogVersion,
            DataChecksums = info.DataChecksums,
            BlockSize = control.BlockSize,
            WalSegmentSize = info.WalSegmentSize,
            Timeline = timeline,
            StartLsn = start.ToString(),
            StopLsn = stop.StopLsn.ToString(),
            StartWal = startWal,
            StopWal = stopWal,
            StartTime = startTime,
            StopTime = stopTime,
            StopNextXid = stopNextXid,
            BackupLabel = stop.BackupLabel,
            TablespaceMap = stop.TablespaceMap,
            PgData = _source.PgData!,
            Tablespaces = tablespaces.Select(t => new TablespaceInfo(t.Oid, t.Name, t.Location)).ToList(),
            PageChecksumErrors = errors,
            RowCounts = rowCounts,
        };
        var manifest = await session.CommitAsync(
            (tree, stats) => new Manifest
            {
                Id = session.BackupId,
                Source = _sourceName,
                Kind = SourceKinds.Cluster,
                Type = parent is null ? "full" : "incr",
                Parent = parent?.Id,
                Started = session.Started,
                Finished = _repo.Time.GetUtcNow(),
                Host = Environment.MachineName,
                Tree = tree,
                Stats = stats with { BytesRead = Interlocked.Read(ref bytesRead), UnchangedFiles = unchanged },
                Paths = [_source.PgData!],
                Details = details.ToDetails(),
                Tags = request.TagsWith(errors.Count > 0 ? new Dictionary<string, string> { ["pageChecksumErrors"] = errors.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) } : null),
            },
            cancellationToken);
        foreach (var e in errors)
        {
            problems.Add("page checksum failure: " + e);
        }

        return new BackupOutcome(manifest, problems);
    }

    /// <summary>
    /// Exact row counts for drills (docs/operations/drills.md), read right after pg_backup_stop in one snapshot whose WAL
    /// position is recorded with them: on the backup's connection, or on a second one when Sources:NAME:Drill:RowCountDatabase
    /// names another database. Counting problems never fail the backup: they are recorded instead of the counts.
    /// </summary>
    private async Task<RowCountSnapshot?> CountRowsAsync(PgServer server, CancellationToken cancellationToken)
    {
        var drill = _source.Drill;
        if (drill.RowCountTables == 0)
        {
            return null;
        }

        var database = drill.RowCountDatabase;
        if (database is null || database == server.Connection.Database)
        {
            return await RowCounter.SnapshotAsync(server.Connection, drill.RowCountTables, _repo.Time, cancellationToken);
        }

        try
        {
            await using var other = await PgServer.ConnectAsync(_source.Postgres().WithDatabase(database), cancellationToken);
            return await RowCounter.SnapshotAsync(other.Connection, drill.RowCountTables, _repo.Time, cancellationToken);
        }
        catch (LifeboatException ex)
        {
            return new RowCountSnapshot { Database = database, Lsn = "", Limit = drill.RowCountTables, Error = ex.Message };
        }
    }

    private void CheckServer(ServerInfo info, PgControl control)
    {
        if (!PgBinaries.IsSupportedCluster(info.Major))
        {
            throw new LifeboatException(ErrorCode.Refused, $"PostgreSQL {info.Version} is not supported", $"Lifeboat supports PostgreSQL {PgBinaries.OldestMajor} to {PgBinaries.NewestClusterMajor}");
        }

        if (info.InRecovery)
        {
            throw new LifeboatException(ErrorCode.Refused, $"the server of source '{_sourceName}' is a standby (in recovery); this version backs up primaries only", "point the source's connection at the primary");
        }

        if (info.SystemIdentifier != control.SystemIdentifier)
        {
            throw new LifeboatException(ErrorCode.Config, $"the server at the connection of source '{_sourceName}' is the cluster {info.SystemIdentifier}, but {_source.PgData} holds the cluster {control.SystemIdentifier}", "the connection string and PgData must name the same cluster");
        }

        if (info.WalLevel == "minimal")
        {
            throw new LifeboatException(ErrorCode.Config, "wal_level is minimal: the WAL does not allow point-in-time recovery", $"run `lifeboat archiving setup --source {_sourceName} --apply` and restart PostgreSQL");
        }

        if (info.ArchiveMode == "off")
        {
            throw new LifeboatException(ErrorCode.Config, "archive_mode is off: a backup without archived WAL cannot be restored", $"run `lifeboat archiving setup --source {_sourceName} --apply` and restart PostgreSQL");
        }
    }

    /// <summary>Waits until every WAL segment from the start to the stop LSN is in the archive.</summary>
    private Task WaitForWalAsync(PgServer server, WalArchive archive, uint timeline, Lsn start, Lsn stop, long segmentSize, CancellationToken cancellationToken)
        => WaitForArchivedAsync(server, archive, _sourceName, _source.ArchiveTimeout, _repo.Time, timeline, start, stop, segmentSize, "restore this backup", "the backup was not committed", cancellationToken);

    /// <summary>
    /// Waits until every WAL segment holding [start, stop) is in the archive, at most <paramref name="timeout"/>; says
    /// what it was waiting for (<paramref name="neededTo"/>) and what did not happen (<paramref name="consequence"/>).
    /// </summary>
    public static async Task WaitForArchivedAsync(PgServer server, WalArchive archive, string sourceName, TimeSpan timeout, TimeProvider time, uint timeline, Lsn start, Lsn stop, long segmentSize, string neededTo, string consequence, CancellationToken cancellationToken)
    {
        var first = start.Segment(segmentSize);
        var last = new Lsn(stop.Value - 1).Segment(segmentSize);
        var deadline = time.GetTimestamp();
        for (var segment = first; segment <= last; segment++)
        {
            var name = WalFileName.SegmentName(timeline, segment, segmentSize);
            while (!await archive.ExistsAsync(name, cancellationToken))
            {
                if (time.GetElapsedTime(deadline) > timeout)
                {
                    var stats = await server.GetArchiverStatsAsync(CancellationToken.None);
                    var failure = stats.LastFailedWal is null ? "" : $"; the last archive failure was {stats.LastFailedWal} at {stats.LastFailedTime:u}";
                    throw new LifeboatException(
                        ErrorCode.Failed,
                        $"WAL segment {name}, needed to {neededTo}, was not archived within {timeout.TotalSeconds:0} s{failure}; {consequence}",
                        $"check archive_command (`lifeboat check --source {sourceName}`) and the PostgreSQL log; raise Sources:{sourceName}:ArchiveTimeout if archiving is just slow");
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
            }
        }
    }

    private static TreeEntry ToTreeEntry(ClusterEntry e) => new()
    {
        Type = e.Kind switch { ClusterEntryKind.Directory => EntryType.Directory, ClusterEntryKind.Symlink => EntryType.Symlink, _ => EntryType.File },
        Path = e.TreePath,
        Mode = e.Stat.Mode,
        Uid = e.Stat.Uid,
        Gid = e.Stat.Gid,
        Size = e.Kind == ClusterEntryKind.File ? e.Stat.Size : 0,
        MTime = e.Stat.MTimeNs,
        CTime = e.Stat.CTimeNs,
        Inode = e.Stat.Inode,
        Dev = e.Stat.Dev,
        Target = e.LinkTarget,
        Chunking = e.Kind == ClusterEntryKind.File ? "block" : null,
    };

    private static bool Unchanged(TreeEntry previous, FileStat now)
        => previous.Type == EntryType.File && previous.Size == now.Size && previous.MTime == now.MTimeNs
           && previous.CTime == now.CTimeNs && previous.Inode == now.Inode
           && (previous.Size == 0 || previous.Chunks is { Count: > 0 });

    /// <summary>Reads a file in 1 MiB buffers of whole blocks; returns the bytes read. A file removed meanwhile is empty.</summary>
    private async Task<long> ReadFileAsync(RepositoryWriter writer, ClusterEntry entry, ChunkList list, PageValidator? validator, ConcurrentBag<string> checksumErrors, CancellationToken cancellationToken)
    {
        Microsoft.Win32.SafeHandles.SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(entry.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return 0; // dropped during the backup: WAL replay removes it anyway
        }

        using (handle)
        {
            long offset = 0;
            var failed = validator is null ? null : new List<uint>();
            while (true)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferSize);
                int n;
                try
                {
                    n = await ReadFullAsync(handle, buffer.AsMemory(0, ReadBufferSize), offset, cancellationToken);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                if (n == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                validator?.Check(buffer.AsSpan(0, n), offset, entry.Segment, handle, failed!);
                await writer.SubmitAsync(list, buffer, n, _repo.BlockSize, pooled: true, cancellationToken);
                offset += n;
                if (n < ReadBufferSize)
                {
                    break;
                }
            }

            if (failed is { Count: > 0 })
            {
                checksumErrors.Add($"{entry.TreePath}: blocks {PageValidator.FormatBlocks(failed)}");
            }

            return offset;
        }
    }

    private static async Task<int> ReadFullAsync(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await RandomAccess.ReadAsync(handle, buffer[total..], offset + total, cancellationToken);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Backup {BackupId} of {Source} started at {Lsn}")]
    private static partial void LogStarted(ILogger logger, string source, string lsn, string backupId);
}
