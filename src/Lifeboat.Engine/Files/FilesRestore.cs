using System.Security.Cryptography;
using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Engine.Platform;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Files;

public sealed record FilesRestoreRequest
{
    public required string Destination { get; init; }

    /// <summary>Restore only paths matching one of these globs (or below a matching directory).</summary>
    public IReadOnlyList<GlobPattern> Paths { get; init; } = [];

    /// <summary>Replace existing files in the destination (otherwise a non-empty destination is refused).</summary>
    public bool Overwrite { get; init; }

    public int Workers { get; init; } = Environment.ProcessorCount;
}

public sealed record RestoreProgress(long Files, long Bytes);

public sealed record FilesRestoreResult(long Files, long Directories, long Symlinks, long Bytes, bool OwnersRestored);

/// <summary>
/// Restores a file tree: directories, files (written under a temporary name, renamed when complete and verified),
/// symlinks (created last, so no restored link can redirect a later write), then directory metadata deepest first.
/// Every chunk is verified before it is written; damage stops the restore with the damaged objects named.
/// </summary>
public sealed class FilesRestore
{
    private readonly Repo _repo;
    private readonly ChunkIndex _index;

    public FilesRestore(Repo repository, ChunkIndex index)
    {
        _repo = repository;
        _index = index;
    }

    /// <summary>Refuses a non-empty destination unless overwriting; creates it when missing.</summary>
    public static void PrepareDestination(string destination, bool overwrite)
    {
        var stat = Unix.Lstat(destination);
        if (stat is null)
        {
            Directory.CreateDirectory(destination);
            return;
        }

        if (stat.Value.Kind != FileKind.Directory)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the restore destination {destination} exists and is not a directory", "choose a new directory with --to");
        }

        if (!overwrite && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new LifeboatException(ErrorCode.Refused, $"the restore destination {destination} is not empty", "choose a new or empty directory with --to, or pass --overwrite to replace files in it");
        }
    }

    public async Task<FilesRestoreResult> RunAsync(Manifest manifest, FilesRestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var destination = Path.GetFullPath(request.Destination);
        PrepareDestination(destination, request.Overwrite);
        var isRoot = Unix.IsRoot;
        var directories = new List<TreeEntry>();
        var symlinks = new List<TreeEntry>();
        var createdDirectories = new HashSet<string>(StringComparer.Ordinal) { "" };
        long files = 0, bytes = 0;
        var fileQueue = Channel.CreateBounded<TreeEntry>(new BoundedChannelOptions(256) { SingleWriter = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Enumerable.Range(0, Math.Max(1, request.Workers)).Select(_ => Task.Run(async () =>
        {
            using var reader = new ChunkReader(_repo, _index);
            try
            {
                await foreach (var entry in fileQueue.Reader.ReadAllAsync(cts.Token))
                {
                    await RestoreFileAsync(reader, manifest, entry, destination, cts.Token);
                    if (isRoot)
                    {
                        Unix.Lchown(Full(destination, entry.Path), entry.Uid, entry.Gid);
                    }

                    Unix.SetTimes(Full(destination, entry.Path), entry.MTime);
                    var n = Interlocked.Increment(ref files);
                    var b = Interlocked.Add(ref bytes, entry.Size);
                    if (n % 64 == 0)
                    {
                        progress?.Report(new RestoreProgress(n, b));
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
                if (request.Paths.Count > 0 && entry.Path.Length > 0 && !request.Paths.Any(g => g.MatchesSelfOrParent(entry.Path, entry.Type == EntryType.Directory)))
                {
                    continue;
                }

                switch (entry.Type)
                {
                    case EntryType.Directory:
                        EnsureDirectory(destination, entry.Path, createdDirectories, request.Overwrite);
                        directories.Add(entry);
                        break;
                    case EntryType.File:
                        EnsureDirectory(destination, ParentOf(entry.Path), createdDirectories, request.Overwrite);
                        await fileQueue.Writer.WriteAsync(entry, cts.Token);
                        break;
                    case EntryType.Symlink:
                        EnsureDirectory(destination, ParentOf(entry.Path), createdDirectories, request.Overwrite);
                        symlinks.Add(entry);
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
            fileQueue.Writer.TryComplete();
        }

        await Task.WhenAll(workers);
        cancellationToken.ThrowIfCancellationRequested();

        foreach (var link in symlinks)
        {
            var path = Full(destination, link.Path);
            if (Unix.Lstat(path) is not null)
            {
                if (!request.Overwrite)
                {
                    throw new LifeboatException(ErrorCode.Refused, $"{path} already exists", "pass --overwrite to replace it");
                }

                DeleteEntry(path);
            }

            File.CreateSymbolicLink(path, link.Target ?? "");
            if (isRoot)
            {
                Unix.Lchown(path, link.Uid, link.Gid);
            }

            Unix.SetTimes(path, link.MTime);
        }

        // Directory metadata last, deepest first, so that writing into them is not affected by their mode or times.
        for (var i = directories.Count - 1; i >= 0; i--)
        {
            var dir = directories[i];
            var path = Full(destination, dir.Path);
            if (isRoot)
            {
                Unix.Lchown(path, dir.Uid, dir.Gid);
            }

            File.SetUnixFileMode(path, (UnixFileMode)dir.Mode);
            Unix.SetTimes(path, dir.MTime);
        }

        progress?.Report(new RestoreProgress(files, bytes));
        return new FilesRestoreResult(files, directories.Count, symlinks.Count, bytes, isRoot);
    }

    private static async Task RestoreFileAsync(ChunkReader reader, Manifest manifest, TreeEntry entry, string destination, CancellationToken cancellationToken)
    {
        var path = Full(destination, entry.Path);
        var temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".lifeboat-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        try
        {
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                long written = 0;
                if (entry.Chunks is not null)
                {
                    foreach (var id in entry.Chunks)
                    {
                        ReadOnlyMemory<byte> chunk;
                        try
                        {
                            chunk = await reader.ReadAsync(id, cancellationToken);
                        }
                        catch (DamageException ex)
                        {
                            throw new DamageException($"cannot restore {entry.Path} from backup {manifest.Id}: {ex.Message}", ex.DamagedObjects, [manifest.Id], ex.Hint, ex);
                        }

                        await output.WriteAsync(chunk, cancellationToken);
                        written += chunk.Length;
                    }
                }

                if (written != entry.Size)
                {
                    throw new DamageException($"cannot restore {entry.Path} from backup {manifest.Id}: its chunks hold {written} bytes, the tree says {entry.Size}", [ObjectNames.Backup(manifest.Id)], [manifest.Id]);
                }
            }

            File.SetUnixFileMode(temp, (UnixFileMode)entry.Mode);
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Creates a directory below the destination, refusing to pass through a symlink.</summary>
    private static void EnsureDirectory(string destination, string relative, HashSet<string> created, bool overwrite)
    {
        if (created.Contains(relative))
        {
            return;
        }

        EnsureDirectory(destination, ParentOf(relative), created, overwrite);
        var path = Full(destination, relative);
        var stat = Unix.Lstat(path);
        if (stat is { Kind: FileKind.Directory })
        {
            created.Add(relative);
            return;
        }

        if (stat is not null)
        {
            if (!overwrite)
            {
                throw new LifeboatException(ErrorCode.Refused, $"{path} exists and is not a directory", "pass --overwrite to replace it");
            }

            DeleteEntry(path);
        }

        Directory.CreateDirectory(path);
        created.Add(relative);
    }

    private static void DeleteEntry(string path)
    {
        var stat = Unix.Lstat(path);
        if (stat is { Kind: FileKind.Directory })
        {
            Directory.Delete(path, recursive: true);
        }
        else if (stat is not null)
        {
            File.Delete(path);
        }
    }

    private static string ParentOf(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    private static string Full(string destination, string relative)
        => relative.Length == 0 ? destination : Path.Combine(destination, relative.Replace('/', Path.DirectorySeparatorChar));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
