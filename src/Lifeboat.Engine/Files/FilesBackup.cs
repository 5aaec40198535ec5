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

/// <summary>A committed backup and the paths that could not be read.</summary>
public sealed record BackupOutcome(Manifest Manifest, IReadOnlyList<string> Problems);

/// <summary>
/// Backs up a directory tree (a files source): metadata of every file, directory and symlink, file contents cut with
/// content-defined chunking; unchanged files (same size, mtime, ctime, inode as in the previous backup) are not read again.
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

    /// <summary>Checks the source before anything is written: its path exists, is a directory, and can be listed.</summary>
    public static string CheckSourcePath(string sourceName, FilesSourceOptions source)
    {
        var root = Path.GetFullPath(source.Path!);
        var stat = Unix.Lstat(root);
        if (stat is null)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the path of source '{sourceName}', {root}, does not exist", $"create it, or fix Sources:{sourceName}:Path in the configuration file");
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
        return await BackupEntriesAsync(SourceKinds.Files, () => walker.Walk(root).Select(e => (e, e.RelativePath)), walker.Problems, [root], null, request, progress, cancellationToken);
    }

    /// <summary>
    /// Backs up walked entries (in <see cref="TreeOrder"/> of their tree paths) as one backup of this source: files whose
    /// size, mtime, ctime and inode equal the previous backup's are not read again; the others are cut into
    /// content-defined chunks. Shared by file, config and logical sources.
    /// </summary>
    internal async Task<BackupOutcome> BackupEntriesAsync(string kind, Func<IEnumerable<(WalkEntry Found, string TreePath)>> entries, List<string> walkProblems, IReadOnlyList<string> paths, System.Text.Json.Nodes.JsonObject? details, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        if (request.Type is not (null or "full" or "incr"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«type» '{request.Type}' is not a backup type", "use «type» full or «type» incr");
        }

        await using var session = await BackupSession.StartAsync(_repo, request.Writer, cancellationToken);
        var parent = request.Type == "full" ? null : await Backups.LatestAsync(_repo, _sourceName, cancellationToken);
        var problems = new List<string>();
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

                    var (chunks, read, problem) = await ReadFileAsync(session.Writer, found.FullPath, buffer, cancellationToken);
                    if (problem is not null)
                    {
                        problems.Add($"{treePath}: {problem}");
                        break;
                    }

                    bytesRead += read;
                    entry.Size = read;
                    await session.AddAsync(entry, chunks, cancellationToken);
                    break;
            }

            if (progress is not null && _repo.Time.GetElapsedTime(lastReport) > TimeSpan.FromMilliseconds(250))
            {
                lastReport = _repo.Time.GetTimestamp();
                progress.Report(new BackupProgress(session.Files, session.Bytes, bytesRead, session.Writer.NewBytes, session.Writer.StoredBytes));
            }
        }

        problems.AddRange(walkProblems);
        var manifest = await session.CommitAsync(new ManifestDraft(_sourceName, kind, parent?.Id, bytesRead, paths.ToList(), details, request.TagsWith(problems.Count > 0 ? new Dictionary<string, string> { ["incomplete"] = $"{problems.Count} path(s) could not be read" } : null), unchanged), cancellationToken);
        progress?.Report(new BackupProgress(manifest.Stats.Files, manifest.Stats.Bytes, bytesRead, manifest.Stats.NewBytes, manifest.Stats.StoredBytes));
        return new BackupOutcome(manifest, problems);
    }

    internal static TreeEntry ToEntry(WalkEntry found)
    {
        var s = found.Stat;
        return new TreeEntry
        {
            Type = s.Kind switch { FileKind.Directory => EntryType.Directory, FileKind.Symlink => EntryType.Symlink, _ => EntryType.File },
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
        => previous.Type == EntryType.File && previous.Size == now.Size && previous.MTime == now.MTimeNs
           && previous.CTime == now.CTimeNs && previous.Inode == now.Inode
           && (previous.Size == 0 || previous.Chunks is { Count: > 0 });

    /// <summary>Reads a file into content-defined chunks; returns the pending chunk list, the bytes read, or a problem.</summary>
    private async Task<(Task<ChunkId[]>? Chunks, long Read, string? Problem)> ReadFileAsync(RepositoryWriter writer, string path, byte[] buffer, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException)
        {
            return (null, 0, "deleted during the backup");
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            return (null, 0, "cannot be read: " + ex.Message);
        }

        await using (stream)
        {
            var list = writer.BeginList();
            long read;
            try
            {
                read = await writer.SubmitStreamAsync(list, stream, buffer, cancellationToken);
            }
            catch (IOException ex)
            {
                // The chunks already queued are stored but unreferenced; prune removes them.
                _ = list.CompleteAsync();
                return (null, 0, "read failed: " + ex.Message);
            }

            return (list.CompleteAsync(), read, null);
        }
    }
}
