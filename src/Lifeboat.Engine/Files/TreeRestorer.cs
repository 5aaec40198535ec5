// Over 400 lines: one restore of a tree, as a list of named steps per entry kind (file, hard link, symlink,
// directory, special file) with their metadata (modes, owners, times, xattrs) applied in the order POSIX needs.
using System.Security.Cryptography;
using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Platform;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Files;

/// <summary>How a tree is laid out on disk by a restore.</summary>
public sealed record TreeRestoreOptions
{
    /// <summary>Where an entry goes (absolute path), or null to skip it. Parents come before their contents.</summary>
    public required Func<TreeEntry, string?> Map { get; init; }

    /// <summary>Where a tree path goes (for hard links, which name another path of the tree).</summary>
    public Func<string, string?> MapPath => path => Map(new TreeEntry { Type = EntryType.File, Path = path });

    /// <summary>Rewrites a symlink's target (tablespace links); default: as stored.</summary>
    public Func<TreeEntry, string>? LinkTarget { get; init; }

    /// <summary>Existing files are compared block by block and only what differs is written; other files are left.</summary>
    public bool Delta { get; init; }

    /// <summary>Existing entries may be replaced.</summary>
    public bool Overwrite { get; init; }

    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Files larger than this are split into ranges restored in parallel.</summary>
    public long RangeSize { get; init; } = 64L << 20;
}

public sealed record TreeRestoreResult(long Files, long Directories, long Symlinks, long Bytes, long BytesWritten, bool OwnersRestored, IReadOnlySet<string> RestoredPaths)
{
    /// <summary>FIFOs and device files recreated.</summary>
    public long Specials { get; init; }

    /// <summary>What could not be recreated and why (a device file when mknod is not permitted), one line each, paths as <see cref="RawPath.Display"/>.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>
/// Restores the entries of a backup's tree: directories first (in tree order), file contents by parallel workers
/// (large files in ranges), every chunk verified before it is written, new files under a temporary name renamed when
/// complete, FIFOs and device files (mknod), symlinks last (no restored link can redirect a later write), then directory
/// metadata deepest first. Paths are raw (<see cref="RawPath"/>): every name is created with its exact bytes. With <see cref="TreeRestoreOptions.Delta"/>, blocks already on disk with the right content are not rewritten.
/// </summary>
public sealed class TreeRestorer
{
    private readonly Repo _repo;
    private readonly ChunkIndex _index;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<FileJob, byte> _started = new();

    public TreeRestorer(Repo repository, ChunkIndex index)
    {
        _repo = repository;
        _index = index;
    }

    public async Task<TreeRestoreResult> RunAsync(Manifest manifest, TreeRestoreOptions options, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var isRoot = Unix.IsRoot;
        var directories = new List<(TreeEntry Entry, string Path)>();
        var symlinks = new List<(TreeEntry Entry, string Path)>();
        var hardlinks = new List<(TreeEntry Entry, string Path, string First)>();
        var specials = new List<(TreeEntry Entry, string Path)>();
        var warnings = new List<string>();
        var restoredFiles = new HashSet<string>(StringComparer.Ordinal);
        var restored = new HashSet<string>(StringComparer.Ordinal);
        long files = 0, bytes = 0, written = 0;
        var queue = Channel.CreateBounded<Range>(new BoundedChannelOptions(64) { SingleWriter = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Enumerable.Range(0, Math.Max(1, options.Workers)).Select(_ => Task.Run(async () =>
        {
            using var reader = new ChunkReader(_repo, _index, cachedFrames: 16);
            using var hasher = _repo.CreateHasher();
            try
            {
                await foreach (var range in queue.Reader.ReadAllAsync(cts.Token))
                {
                    var n = await RestoreRangeAsync(reader, hasher, manifest, range, options.Delta, cts.Token);
                    Interlocked.Add(ref written, n);
                    var total = Interlocked.Add(ref bytes, range.Length);
                    if (range.File.Complete())
                    {
                        FinishFile(range.File, isRoot);
                        var done = Interlocked.Increment(ref files);
                        if (done % 16 == 0)
                        {
                            progress?.Report(new RestoreProgress(done, total));
                        }
                    }
                }
            }
            catch
            {
                await cts.CancelAsync();
                throw;
            }
        }, CancellationToken.None)).ToList();

        try
        {
            using var treeReader = new ChunkReader(_repo, _index);
            await foreach (var entry in TreeReader.ReadAsync(treeReader, manifest, cts.Token))
            {
                var path = options.Map(entry);
                if (path is null)
                {
                    continue;
                }

                restored.Add(path);
                switch (entry.Type)
                {
                    case EntryType.Directory:
                        EnsureDirectory(path, options.Overwrite || options.Delta);
                        directories.Add((entry, path));
                        break;
                    case EntryType.Symlink:
                        symlinks.Add((entry, path));
                        break;
                    case EntryType.File when entry.Special is not null:
                        specials.Add((entry, path));
                        break;
                    case EntryType.File when entry.HardlinkOf is { } first && options.MapPath(first) is { } firstPath && restoredFiles.Contains(firstPath):
                        hardlinks.Add((entry, path, firstPath));
                        break;
                    case EntryType.File:
                        restoredFiles.Add(path);
                        foreach (var range in PlanFile(manifest, entry, path, options))
                        {
                            await queue.Writer.WriteAsync(range, cts.Token);
                        }

                        break;
                }
            }
        }
        catch (Exception) when (cts.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A worker failed: its exception is the one to report.
        }
        finally
        {
            queue.Writer.TryComplete();
        }

        try
        {
            await Task.WhenAll(workers);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch
        {
            // Never leave a partly written file under a temporary name.
            foreach (var job in _started.Keys.Where(j => !j.InPlace && !j.Finished))
            {
                TryDelete(job.WritePath);
            }

            throw;
        }

        foreach (var (entry, path, first) in hardlinks)
        {
            if (Unix.Lstat(path) is not null)
            {
                DeleteEntry(path);
            }

            Unix.Link(first, path);
        }

        long made = 0;
        foreach (var (entry, path) in specials)
        {
            if (MakeSpecial(entry, path, options, isRoot) is { } warning)
            {
                warnings.Add(warning);
            }
            else
            {
                made++;
            }
        }

        foreach (var (entry, path) in symlinks)
        {
            if (Unix.Lstat(path) is not null)
            {
                if (!options.Overwrite && !options.Delta)
                {
                    throw new LifeboatException(ErrorCode.Refused, $"{RawPath.Display(path)} already exists", "pass «overwrite» to replace it");
                }

                DeleteEntry(path);
            }

            Unix.Symlink(options.LinkTarget?.Invoke(entry) ?? entry.Target ?? "", path);
            if (isRoot)
            {
                Chown(path, entry);
            }

            Unix.SetTimes(path, entry.MTime);
        }

        for (var i = directories.Count - 1; i >= 0; i--)
        {
            var (entry, path) = directories[i];
            if (isRoot)
            {
                Chown(path, entry);
            }

            Unix.Chmod(path, entry.Mode);
            Unix.SetTimes(path, entry.MTime);
        }

        progress?.Report(new RestoreProgress(files, bytes));
        return new TreeRestoreResult(files, directories.Count, symlinks.Count, bytes, written, isRoot, restored) { Specials = made, Warnings = warnings };
    }

    /// <summary>
    /// Creates a FIFO or device file with its mode, owner and times. A device file needs CAP_MKNOD (root, as a rule):
    /// without it, or for a special type this reader does not know, the entry is not restored and the reason returned.
    /// </summary>
    private static string? MakeSpecial(TreeEntry entry, string path, TreeRestoreOptions options, bool isRoot)
    {
        var kind = entry.Special switch
        {
            TreeEntry.SpecialFifo => FileKind.Fifo,
            TreeEntry.SpecialCharDevice => FileKind.CharDevice,
            TreeEntry.SpecialBlockDevice => FileKind.BlockDevice,
            _ => (FileKind?)null,
        };
        if (kind is null)
        {
            return $"{RawPath.Display(entry.Path)}: not restored: a special file of type '{entry.Special}', which this version of lifeboat does not know";
        }

        if (Unix.Lstat(path) is not null)
        {
            if (!options.Overwrite && !options.Delta)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{RawPath.Display(path)} already exists", "restore into a new directory, or pass «overwrite»");
            }

            DeleteEntry(path);
        }

        try
        {
            Unix.MakeNode(path, kind.Value, entry.Mode, entry.RdevMajor, entry.RdevMinor);
        }
        catch (UnauthorizedAccessException ex)
        {
            return $"{RawPath.Display(entry.Path)}: not restored: {ex.Message} (a {(kind == FileKind.BlockDevice ? "block" : "character")} device {entry.RdevMajor}:{entry.RdevMinor}; creating one needs root)";
        }

        Unix.Chmod(path, entry.Mode);
        if (isRoot)
        {
            Chown(path, entry);
        }

        Unix.SetTimes(path, entry.MTime);
        return null;
    }

    /// <summary>Splits a file into ranges of whole chunks; creates it (under a temporary name unless delta-restoring in place).</summary>
    private IEnumerable<Range> PlanFile(Manifest manifest, TreeEntry entry, string path, TreeRestoreOptions options)
    {
        var existing = Unix.Lstat(path);
        var inPlace = options.Delta && existing is { Kind: FileKind.Regular };
        if (existing is not null && !inPlace)
        {
            if (!options.Overwrite && !options.Delta)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{RawPath.Display(path)} already exists", "restore into a new directory, or pass «overwrite»");
            }

            if (existing.Value.Kind == FileKind.Directory)
            {
                Unix.DeleteTree(path);
            }
        }

        var writePath = inPlace ? path : TemporaryPath(path);
        using (var handle = inPlace ? Unix.OpenWrite(writePath, read: false) : Unix.CreateNew(writePath))
        {
            RandomAccess.SetLength(handle, entry.Size);
        }

        var chunks = entry.Chunks ?? [];
        var lengths = new int[chunks.Count];
        for (var i = 0; i < chunks.Count; i++)
        {
            if (!_index.TryGet(chunks[i], out var location))
            {
                TryDelete(inPlace ? null : writePath);
                throw new DamageException($"cannot restore {RawPath.Display(entry.Path)} from backup {manifest.Id}: chunk {chunks[i]} is not in the index", ["chunk " + chunks[i]], [manifest.Id], "run `lifeboat verify` and `lifeboat repo rebuild-index`");
            }

            lengths[i] = location.Length;
        }

        var file = new FileJob(entry, path, writePath, inPlace);
        _started[file] = 0;
        var ranges = new List<Range>();
        long offset = 0;
        var first = 0;
        long rangeBytes = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            rangeBytes += lengths[i];
            if (rangeBytes >= options.RangeSize || i == chunks.Count - 1)
            {
                ranges.Add(new Range(file, first, i - first + 1, offset, rangeBytes));
                offset += rangeBytes;
                first = i + 1;
                rangeBytes = 0;
            }
        }

        if (offset != entry.Size)
        {
            TryDelete(inPlace ? null : writePath);
            throw new DamageException($"cannot restore {RawPath.Display(entry.Path)} from backup {manifest.Id}: its chunks hold {offset} bytes, the tree says {entry.Size}", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
        }

        if (ranges.Count == 0)
        {
            ranges.Add(new Range(file, 0, 0, 0, 0));
        }

        file.Pending = ranges.Count;
        return ranges;
    }

    /// <summary>Where a new file is written until it is complete: <c>.NAME.lifeboat-XXXXXXXX</c> beside it, or without the name when that would pass NAME_MAX (255 bytes).</summary>
    private static string TemporaryPath(string path)
    {
        var name = Path.GetFileName(path);
        var suffix = ".lifeboat-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var temporary = RawPath.ToBytes(name).Length + suffix.Length + 1 <= 255 ? "." + name + suffix : suffix;
        return Path.Combine(Path.GetDirectoryName(path)!, temporary);
    }

    private static async Task<long> RestoreRangeAsync(ChunkReader reader, Repository.Crypto.ChunkHasher hasher, Manifest manifest, Range range, bool delta, CancellationToken cancellationToken)
    {
        if (range.Count == 0)
        {
            return 0;
        }

        var chunks = range.File.Entry.Chunks!;
        using var handle = Unix.OpenWrite(range.File.WritePath, read: range.File.InPlace);
        long offset = range.Offset;
        long written = 0;
        byte[]? existing = null;
        for (var i = range.First; i < range.First + range.Count; i++)
        {
            var id = chunks[i];
            ReadOnlyMemory<byte> chunk;
            if (range.File.InPlace)
            {
                // Delta: keep a block that already has the right content.
                var length = reader.LengthOf(id);
                existing ??= new byte[Math.Max(length, 8192)];
                if (existing.Length < length)
                {
                    existing = new byte[length];
                }

                var n = RandomAccess.Read(handle, existing.AsSpan(0, length), offset);
                if (n == length && hasher.Compute(existing.AsSpan(0, length)) == id)
                {
                    offset += length;
                    continue;
                }
            }

            try
            {
                chunk = await reader.ReadAsync(id, cancellationToken);
            }
            catch (DamageException ex)
            {
                throw new DamageException($"cannot restore {RawPath.Display(range.File.Entry.Path)} from backup {manifest.Id}: {ex.Message}", ex.DamagedObjects, [manifest.Id], ex.Hint, ex);
            }

            await RandomAccess.WriteAsync(handle, chunk, offset, cancellationToken);
            offset += chunk.Length;
            written += chunk.Length;
        }

        return written;
    }

    /// <summary>Owners are restored by name when the name exists on this host, else by id.</summary>
    private static void Chown(string path, TreeEntry entry) => Unix.Lchown(path, UserNames.Uid(entry.User, entry.Uid), UserNames.Gid(entry.Group, entry.Gid));

    private static void FinishFile(FileJob file, bool isRoot)
    {
        Unix.Chmod(file.WritePath, file.Entry.Mode);
        if (isRoot)
        {
            Chown(file.WritePath, file.Entry);
        }

        Unix.SetTimes(file.WritePath, file.Entry.MTime);
        if (!file.InPlace)
        {
            Unix.Rename(file.WritePath, file.Path);
        }

        file.Finished = true;
    }

    /// <summary>Creates a directory, refusing to pass through a symlink or replace a file unless allowed.</summary>
    private static void EnsureDirectory(string path, bool replace)
    {
        var stat = Unix.Lstat(path);
        if (stat is { Kind: FileKind.Directory })
        {
            return;
        }

        if (stat is not null)
        {
            if (!replace)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{RawPath.Display(path)} exists and is not a directory", "pass «overwrite» to replace it");
            }

            DeleteEntry(path);
        }

        Unix.CreateDirectory(path);
    }

    /// <summary>Removes whatever is at <paramref name="path"/> (a directory with its contents); nothing there is fine.</summary>
    public static void DeleteEntry(string path) => Unix.DeleteTree(path);

    private static void TryDelete(string? path)
    {
        if (path is null)
        {
            return;
        }

        try
        {
            Unix.Unlink(path);
        }
        catch (IOException)
        {
        }
    }

    private sealed class FileJob(TreeEntry entry, string path, string writePath, bool inPlace)
    {
        private int _pending;

        public TreeEntry Entry { get; } = entry;

        public string Path { get; } = path;

        public string WritePath { get; } = writePath;

        public bool InPlace { get; } = inPlace;

        public bool Finished { get; set; }

        public int Pending
        {
            set => _pending = value;
        }

        /// <summary>Marks one range done; true for the last one.</summary>
        public bool Complete() => Interlocked.Decrement(ref _pending) == 0;
    }

    private sealed record Range(FileJob File, int First, int Count, long Offset, long Length);
}
