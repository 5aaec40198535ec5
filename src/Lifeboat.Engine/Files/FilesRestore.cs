using Lifeboat.Core;
using Lifeboat.Platform;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
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

/// <param name="Specials">FIFOs and device files recreated.</param>
/// <param name="Warnings">What could not be recreated (a device file without the right to mknod), one line each.</param>
public sealed record FilesRestoreResult(long Files, long Directories, long Symlinks, long Bytes, bool OwnersRestored, long Specials = 0, IReadOnlyList<string>? Warnings = null)
{
    public static FilesRestoreResult From(TreeRestoreResult r) => new(r.Files, r.Directories, r.Symlinks, r.Bytes, r.OwnersRestored, r.Specials, r.Warnings);
}

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
            try
            {
                Directory.CreateDirectory(destination);
            }
            catch (UnauthorizedAccessException ex)
            {
                throw LifeboatException.PermissionDenied(destination, "create", "the restore directory ", ex);
            }

            return;
        }

        if (stat.Value.Kind != FileKind.Directory)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the restore destination {destination} exists and is not a directory", "choose a new directory with «to»");
        }

        if (!overwrite && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new LifeboatException(ErrorCode.Refused, $"the restore destination {destination} is not empty", "choose a new or empty directory with «to», or pass «overwrite» to replace files in it");
        }
    }

    public async Task<FilesRestoreResult> RunAsync(Manifest manifest, FilesRestoreRequest request, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var destination = Path.GetFullPath(request.Destination);
        PrepareDestination(destination, request.Overwrite);
        var result = await new TreeRestorer(_repo, _index).RunAsync(
            manifest,
            new TreeRestoreOptions
            {
                Map = entry =>
                {
                    if (request.Paths.Count > 0 && entry.Path.Length > 0)
                    {
                        if (!request.Paths.Any(g => g.MatchesSelfOrParent(entry.Path, entry.Type == EntryType.Directory)))
                        {
                            return null;
                        }

                        // The parents of a matching path are not restored themselves: create them.
                        Unix.CreateDirectory(Path.GetDirectoryName(Full(destination, entry.Path))!);
                    }

                    return Full(destination, entry.Path);
                },
                Overwrite = request.Overwrite,
                Workers = request.Workers,
            },
            progress,
            cancellationToken);
        return FilesRestoreResult.From(result);
    }

    private static string Full(string destination, string relative)
        => relative.Length == 0 ? destination : Path.Combine(destination, relative.Replace('/', Path.DirectorySeparatorChar));
}
