using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Platform;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Files;

/// <summary>Progress of a backup, reported a few times per second.</summary>
public sealed record BackupProgress(long Files, long Bytes, long BytesRead, long NewBytes, long StoredBytes);

public sealed record BackupRequest
{
    /// <summary>full: read every file; incr: trust the metadata of the previous backup; null: incr when there is one.</summary>
    public string? Type { get; init; }

    public WriterOptions Writer { get; init; } = new();

    /// <summary>Tags for the manifest (a stack backup names itself here).</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The request's tags and the backup's own, or null when there are none.</summary>
    public Dictionary<string, string>? TagsWith(IReadOnlyDictionary<string, string>? own)
    {
        if ((Tags is null || Tags.Count == 0) && (own is null || own.Count == 0))
        {
            return null;
        }

        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in (Tags ?? new Dictionary<string, string>()).Concat(own ?? new Dictionary<string, string>()))
        {
            tags[k] = v;
        }

        return tags;
    }
}

/// <summary>
/// A committed backup and what it could not hold as it should: every problem as one line (paths that could not
/// be read, files that changed while they were read or vanished before), and the changed and vanished files by path.
/// </summary>
public sealed record BackupOutcome(Manifest Manifest, IReadOnlyList<string> Problems)
{
    /// <summary>Files that changed while they were read, twice: stored as the second read found them, maybe torn.</summary>
    public IReadOnlyList<string> Changed { get; init; } = [];

    /// <summary>Files that were listed but gone when they were to be read: not in the backup.</summary>
    public IReadOnlyList<string> Vanished { get; init; } = [];

    /// <summary>What the backup left out by design and says so (sockets), one line each: warnings, not problems.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>
/// Backs up a directory tree (a files source): metadata of every file, directory, symlink, FIFO and device file, file
/// contents cut with content-defined chunking; unchanged files (same size, mtime, ctime, inode as in the previous backup)
/// are not read again. Names are bytes (<see cref="RawPath"/>); sockets are named in the manifest, not backed up.
/// </summary>
public sealed class FilesBackup
{
    private readonly Repo _repo;
    private readonly string _sourceName;
    private readonly FilesSourceOptions? _source;

    public FilesBackup(Repo repository, string sourceName, FilesSourceOptions? source)
    {
        _repo = repository;
        _sourceName = sourceName;
        _source = source;
    }

    /// <summary>The manifest tag and <c>details</c> field naming the files that changed while they were read (repository-format.md, section 10).</summary>
    public const string ChangedField = "changedDuringBackup";

    /// <summary>The manifest tag and <c>details</c> field naming the files that vanished before they could be read.</summary>
    public const string VanishedField = "vanishedDuringBackup";

    /// <summary>The manifest tag and <c>details</c> field naming the sockets found, which a backup cannot hold.</summary>
    public const string SocketsField = "socketsIgnored";

    /// <summary>Test seam: called with the file's path and the attempt (1, 2) just before a file is opened to be read.</summary>
    internal Func<string, int, ValueTask>? BeforeOpen { get; init; }

    /// <summary>Test seam: called with the file's path and the attempt after its content was read, before its metadata is read again.</summary>
    internal Func<string, int, ValueTask>? AfterRead { get; init; }

    /// <summary>
    /// Checks the source before anything is written: its path exists, is a directory (or a symlink to one, which is
    /// followed: the backup holds the directory's contents, as tar -h and restic do for the path they are given), and
    /// can be listed.
    /// </summary>
    public static string CheckSourcePath(string sourceName, FilesSourceOptions source)
    {
        var root = Path.GetFullPath(source.Path!);
        var stat = Unix.Lstat(root);
        if (stat is null)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, does not exist", $"create it, or fix Sources:{sourceName}:Path in the configuration file");
        }

        if (stat.Value.Kind == FileKind.Symlink)
        {
            var target = new FileInfo(root).LinkTarget;
            stat = Unix.Stat(root);
            if (stat is null)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, is a symlink to {target}, which does not exist", $"create {target}, or point Sources:{sourceName}:Path at a directory");
            }

            if (stat.Value.Kind != FileKind.Directory)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, is a symlink to {target}, which is not a directory", $"point Sources:{sourceName}:Path at a directory");
            }
        }

        if (stat.Value.Kind != FileKind.Directory)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, is not a directory", $"point Sources:{sourceName}:Path at a directory");
        }

        try
        {
            using var e = Directory.EnumerateFileSystemEntries(root).GetEnumerator();
            e.MoveNext();
        }
        catch (UnauthorizedAccessException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, cannot be read by this user", "run lifeboat as a user that can read it (or as root)");
        }

        return root;
    }

    public async Task<BackupOutcome> RunAsync(BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        var source = _source ?? throw new InvalidOperationException("a files backup needs the source's options");
        var root = CheckSourcePath(_sourceName, source);
        var walker = new FileTreeWalker(
            source.Include.Select(g => new GlobPattern(g)).ToList(),
            source.Exclude.Select(g => new GlobPattern(g)).ToList());
        return await BackupEntriesAsync(SourceKinds.Files, () => walker.Walk(root).Select(e => (e, e.RelativePath)), walker, full => Path.GetRelativePath(root, full), [root], null, request, progress, cancellationToken);
    }

    /// <summary>
    /// Backs up walked entries (in <see cref="TreeOrder"/> of their tree paths) as one backup of this source: files whose
    /// size, mtime, ctime and inode equal the previous backup's are not read again; the others are cut into
    /// content-defined chunks. A file whose size, mtime, ctime or inode differ after it was read from what they were
    /// before is read once more; when it changes again it is stored as read and named as changed during the backup.
    /// Shared by file and config sources.
    /// </summary>
    /// <param name="walker">The walker behind <paramref name="entries"/>: its problems and vanished paths are the backup's.</param>
    /// <param name="treePathOf">The tree path of a full path the walker reports.</param>
    internal async Task<BackupOutcome> BackupEntriesAsync(string kind, Func<IEnumerable<(WalkEntry Found, string TreePath)>> entries, FileTreeWalker walker, Func<string, string> treePathOf, IReadOnlyList<string> paths, System.Text.Json.Nodes.JsonObject? details, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Type is not (null or "full" or "incr"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«type» '{request.Type}' is not a backup type", "use «type» full or «type» incr");
        }

        await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
        var parent = request.Type == "full" ? null : await Backups.LatestAsync(_repo, _sourceName, cancellationToken);
        var problems = new List<string>();
        var changed = new List<string>();
        var vanished = new List<string>();
        long bytesRead = 0;
        long unchanged = 0;
        var buffer = new byte[session.Writer.StreamBufferSize];
        var lastReport = _repo.Time.GetTimestamp();

        using var parentReader = parent is null ? null : new ChunkReader(_repo, session.Index);
        await using var parentTree = parent is null ? null : new ParentTree(TreeReader.ReadAsync(parentReader!, parent, cancellationToken));
        var linkFirsts = new Dictionary<(long Dev, long Inode), string>();
        foreach (var (found, treePath) in entries())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = ToEntry(found);
            entry.Path = treePath;
            if (found.Stat is { Kind: FileKind.Regular, Links: > 1 })
            {
                // A hard-link set: later paths name the first one, so a restore links them again.
                if (linkFirsts.TryGetValue((found.Stat.Dev, found.Stat.Inode), out var first))
                {
                    entry.HardlinkOf = first;
                }
                else
                {
                    linkFirsts[(found.Stat.Dev, found.Stat.Inode)] = treePath;
                }
            }
            switch (found.Stat.Kind)
            {
                case FileKind.Directory:
                case FileKind.Symlink:
                case FileKind.Fifo or FileKind.CharDevice or FileKind.BlockDevice:
                    await session.AddAsync(entry, null, cancellationToken);
                    break;
                case FileKind.Regular:
                    var previous = parentTree is null ? null : await parentTree.FindAsync(treePath);
                    if (previous is not null && IsUnchanged(previous, found.Stat))
                    {
                        entry.Chunks = previous.Chunks;
                        unchanged++;
                        await session.AddAsync(entry, null, cancellationToken);
                        break;
                    }

                    var read = await ReadStableAsync(session.Writer, found, buffer, cancellationToken);
                    bytesRead += read.BytesRead;
                    if (read.Vanished)
                    {
                        vanished.Add(treePath);
                        break;
                    }

                    if (read.Problem is not null)
                    {
                        problems.Add($"{RawPath.Display(treePath)}: {read.Problem}");
                        break;
                    }

                    if (read.Stat is { } stat)
                    {
                        // Read again: the metadata recorded is what it had when that read began.
                        var hardlinkOf = entry.HardlinkOf;
                        entry = ToEntry(found with { Stat = stat });
                        entry.Path = treePath;
                        entry.HardlinkOf = hardlinkOf;
                    }

                    if (read.Torn)
                    {
                        changed.Add(treePath);
                    }

                    entry.Size = read.Size;
                    await session.AddAsync(entry, read.Chunks, cancellationToken);
                    break;
            }

            if (progress is not null && _repo.Time.GetElapsedTime(lastReport) > TimeSpan.FromMilliseconds(250))
            {
                lastReport = _repo.Time.GetTimestamp();
                progress.Report(new BackupProgress(session.Files, session.Bytes, bytesRead, session.Writer.NewBytes, session.Writer.StoredBytes));
            }
        }

        problems.AddRange(walker.Problems);
        vanished.AddRange(walker.Vanished.Select(treePathOf));
        vanished.Sort(TreeOrder.Instance);
        var sockets = walker.Sockets.Select(p => treePathOf(p)).Order(TreeOrder.Instance).ToList();

        // Manifests, problems and warnings are text: names that are not UTF-8 are shown escaped (\xff).
        changed = changed.Select(RawPath.Display).ToList();
        vanished = vanished.Select(RawPath.Display).ToList();
        sockets = sockets.Select(RawPath.Display).ToList();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (problems.Count > 0)
        {
            tags["incomplete"] = $"{problems.Count} path(s) could not be read";
        }

        if (changed.Count > 0)
        {
            tags[ChangedField] = $"{changed.Count} file(s) changed while they were read";
            details = With(details, ChangedField, changed);
        }

        if (vanished.Count > 0)
        {
            tags[VanishedField] = $"{vanished.Count} file(s) vanished before they could be read";
            details = With(details, VanishedField, vanished);
        }

        if (sockets.Count > 0)
        {
            tags[SocketsField] = $"{sockets.Count} socket(s) ignored";
            details = With(details, SocketsField, sockets);
        }

        var manifest = await session.CommitAsync(new ManifestDraft(_sourceName, kind, parent?.Id, bytesRead, paths.ToList(), details, request.TagsWith(tags.Count > 0 ? tags : null), unchanged), cancellationToken);
        progress?.Report(new BackupProgress(manifest.Stats.Files, manifest.Stats.Bytes, bytesRead, manifest.Stats.NewBytes, manifest.Stats.StoredBytes));
        var all = problems
            .Concat(changed.Select(p => $"{p}: changed while it was read, twice; stored as the second read found it, which may mix old and new content"))
            .Concat(vanished.Select(p => $"{p}: vanished before it could be read; not in the backup"))
            .ToList();
        var warnings = sockets.Select(p => $"{p}: socket ignored (a socket cannot be backed up; the program that listens on it creates it again)").ToList();
        return new BackupOutcome(manifest, all) { Changed = changed, Vanished = vanished, Warnings = warnings };
    }

    private static System.Text.Json.Nodes.JsonObject With(System.Text.Json.Nodes.JsonObject? details, string field, List<string> paths)
    {
        details ??= [];
        details[field] = new System.Text.Json.Nodes.JsonArray(paths.Select(p => (System.Text.Json.Nodes.JsonNode?)p).ToArray());
        return details;
    }

    internal static TreeEntry ToEntry(WalkEntry found)
    {
        var s = found.Stat;
        return new TreeEntry
        {
            Type = s.Kind switch { FileKind.Directory => EntryType.Directory, FileKind.Symlink => EntryType.Symlink, _ => EntryType.File },
            Special = s.Kind switch { FileKind.Fifo => TreeEntry.SpecialFifo, FileKind.CharDevice => TreeEntry.SpecialCharDevice, FileKind.BlockDevice => TreeEntry.SpecialBlockDevice, _ => null },
            RdevMajor = s.Kind is FileKind.CharDevice or FileKind.BlockDevice ? s.RdevMajor : 0,
            RdevMinor = s.Kind is FileKind.CharDevice or FileKind.BlockDevice ? s.RdevMinor : 0,
            Path = found.RelativePath,
            Mode = s.Mode,
            Uid = s.Uid,
            Gid = s.Gid,
            User = UserNames.UserName(s.Uid),
            Group = UserNames.GroupName(s.Gid),
            Size = s.Kind == FileKind.Regular ? s.Size : 0,
            MTime = s.MTimeNs,
            CTime = s.CTimeNs,
            Inode = s.Inode,
            Dev = s.Dev,
            Links = s.Links,
            Target = found.LinkTarget,
            Chunking = s.Kind == FileKind.Regular ? "cdc" : null,
        };
    }

    private static bool IsUnchanged(TreeEntry previous, FileStat now)
        => previous.Type == EntryType.File && previous.Special is null && previous.Size == now.Size && previous.MTime == now.MTimeNs
           && previous.CTime == now.CTimeNs && previous.Inode == now.Inode
           && (previous.Size == 0 || previous.Chunks is { Count: > 0 });

    /// <summary>What reading a file gave: its chunks, or that it vanished, or why it could not be read.</summary>
    /// <param name="Size">The bytes stored; <paramref name="BytesRead"/> counts every read.</param>
    /// <param name="Stat">The metadata to record instead of the walker's (the file was read again), or null.</param>
    /// <param name="Changed">Its metadata after the read differed from before it.</param>
    /// <param name="Torn">It changed during both reads: stored as the second read found it.</param>
    private sealed record FileRead(Task<ChunkId[]>? Chunks, long Size, long BytesRead, FileStat? Stat = null, bool Changed = false, bool Torn = false, bool Vanished = false, string? Problem = null);

    /// <summary>
    /// Reads a file; when its size, mtime, ctime or inode after the read differ from before (the walker's lstat, so one
    /// fstat per file), it was written while it was read, or replaced since it was listed: once more, with its metadata
    /// at that open. A second change is reported (<see cref="FileRead.Torn"/>), not retried again: a file written without
    /// pause would never be stored at all.
    /// </summary>
    private async Task<FileRead> ReadStableAsync(RepositoryWriter writer, WalkEntry found, byte[] buffer, CancellationToken cancellationToken)
    {
        var first = await ReadOnceAsync(writer, found.FullPath, found.Stat, 1, buffer, cancellationToken);
        if (!first.Changed)
        {
            return first with { Stat = null };
        }

        // The chunks of the first read are stored but unreferenced (prune removes them); most deduplicate anyway.
        var second = await ReadOnceAsync(writer, found.FullPath, null, 2, buffer, cancellationToken);
        return second with { BytesRead = first.BytesRead + second.BytesRead, Torn = second.Changed };
    }

    /// <summary>
    /// Reads a file into content-defined chunks and compares its metadata at the end with <paramref name="before"/>
    /// (null: the metadata of the file when it was opened). <see cref="FileRead.Stat"/> is the metadata before the read.
    /// </summary>
    private async Task<FileRead> ReadOnceAsync(RepositoryWriter writer, string path, FileStat? before, int attempt, byte[] buffer, CancellationToken cancellationToken)
    {
        if (BeforeOpen is not null)
        {
            await BeforeOpen(path, attempt);
        }

        FileStream stream;
        try
        {
            // By the path's bytes (System.IO would re-encode a name that is not UTF-8 and not find it).
            stream = new FileStream(Unix.OpenRead(path), FileAccess.Read, 1);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new FileRead(null, 0, 0, Vanished: true);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return new FileRead(null, 0, 0, Problem: "cannot be read: " + ex.Message);
        }

        await using (stream)
        {
            var list = writer.BeginList();
            long read;
            FileStat opened;
            FileStat after;
            try
            {
                opened = before ?? Unix.Fstat(stream.SafeFileHandle, path);
                read = await writer.SubmitStreamAsync(list, stream, buffer, cancellationToken);
                if (AfterRead is not null)
                {
                    await AfterRead(path, attempt);
                }

                after = Unix.Fstat(stream.SafeFileHandle, path);
            }
            catch (IOException ex)
            {
                // The chunks already queued are stored but unreferenced; prune removes them.
                _ = list.CompleteAsync();
                return new FileRead(null, 0, 0, Problem: "read failed: " + ex.Message);
            }

            var changed = after.Size != read || after.Size != opened.Size || after.MTimeNs != opened.MTimeNs
                          || after.CTimeNs != opened.CTimeNs || after.Inode != opened.Inode || after.Dev != opened.Dev;
            return new FileRead(list.CompleteAsync(), read, read, opened, changed);
        }
    }
}
