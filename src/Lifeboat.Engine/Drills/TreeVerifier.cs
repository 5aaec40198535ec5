using System.Buffers;
using Lifeboat.Platform;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Reading;
using Lifeboat.Repository.Trees;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Drills;

public sealed record TreeVerification(long Files, long Directories, long Symlinks, long Bytes, long ProblemCount, IReadOnlyList<string> Problems)
{
    public bool Clean => ProblemCount == 0;
}

/// <summary>
/// Checks a restored tree against the backup's own record of it: every directory, symlink (and its target) and file is
/// there with its size, and every file's bytes, cut where the backup cut them, re-hash (HMAC-SHA256 with the repository's
/// id key) to the chunk ids recorded at backup time. This reads what landed on disk, independently of the restore's
/// own check of each chunk before it was written.
/// </summary>
public static class TreeVerifier
{
    private const int MaxListed = 50;

    public static async Task<TreeVerification> VerifyAsync(Repo repository, ChunkIndex index, Manifest manifest, string root, CancellationToken cancellationToken)
    {
        long files = 0, directories = 0, symlinks = 0, bytes = 0, problemCount = 0;
        var problems = new List<string>();
        void Problem(string text)
        {
            problemCount++;
            if (problems.Count < MaxListed)
            {
                problems.Add(text);
            }
        }

        using var reader = new ChunkReader(repository, index);
        using var hasher = repository.CreateHasher();
        await foreach (var entry in TreeReader.ReadAsync(reader, manifest, cancellationToken))
        {
            var path = entry.Path.Length == 0 ? root : Path.Combine(root, entry.Path.Replace('/', Path.DirectorySeparatorChar));
            var shown = entry.Path.Length == 0 ? "/" : Lifeboat.Core.RawPath.Display(entry.Path);
            var stat = Unix.Lstat(path);
            switch (entry.Type)
            {
                case EntryType.Directory:
                    directories++;
                    if (stat is not { Kind: FileKind.Directory })
                    {
                        Problem($"{shown}: the directory is missing");
                    }

                    break;
                case EntryType.Symlink:
                    symlinks++;
                    if (stat is not { Kind: FileKind.Symlink })
                    {
                        Problem($"{shown}: the symlink is missing");
                    }
                    else if (Unix.ReadLink(path) is var target && target != entry.Target)
                    {
                        Problem($"{shown}: the symlink points to '{Lifeboat.Core.RawPath.Display(target)}', the backup recorded '{Lifeboat.Core.RawPath.Display(entry.Target ?? "")}'");
                    }

                    break;
                case EntryType.File when entry.Special is not null:
                    files++;
                    var kind = entry.Special switch { TreeEntry.SpecialFifo => FileKind.Fifo, TreeEntry.SpecialCharDevice => FileKind.CharDevice, _ => FileKind.BlockDevice };
                    if (stat?.Kind != kind)
                    {
                        Problem($"{shown}: the {entry.Special} is missing");
                    }
                    else if (kind != FileKind.Fifo && (stat.Value.RdevMajor != entry.RdevMajor || stat.Value.RdevMinor != entry.RdevMinor))
                    {
                        Problem($"{shown}: the device is {stat.Value.RdevMajor}:{stat.Value.RdevMinor}, the backup recorded {entry.RdevMajor}:{entry.RdevMinor}");
                    }

                    break;
                case EntryType.File:
                    files++;
                    if (stat is not { Kind: FileKind.Regular })
                    {
                        Problem($"{shown}: the file is missing");
                        break;
                    }

                    if (stat.Value.Size != entry.Size)
                    {
                        Problem($"{shown}: {stat.Value.Size} bytes on disk, the backup recorded {entry.Size}");
                        break;
                    }

                    bytes += entry.Size;
                    if (await FirstMismatchAsync(path, entry, index, hasher, cancellationToken) is { } mismatch)
                    {
                        Problem($"{shown}: {mismatch}");
                    }

                    break;
            }
        }

        return new TreeVerification(files, directories, symlinks, bytes, problemCount, problems);
    }

    private static async Task<string?> FirstMismatchAsync(string path, TreeEntry entry, ChunkIndex index, Repository.Crypto.ChunkHasher hasher, CancellationToken cancellationToken)
    {
        var chunks = entry.Chunks ?? [];
        using var handle = Unix.OpenRead(path);
        long offset = 0;
        byte[]? buffer = null;
        try
        {
            foreach (var id in chunks)
            {
                if (!index.TryGet(id, out var location))
                {
                    return $"chunk {id} is not in the index: its length is unknown";
                }

                if (buffer is null || buffer.Length < location.Length)
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }

                    buffer = ArrayPool<byte>.Shared.Rent(location.Length);
                }

                var read = 0;
                while (read < location.Length)
                {
                    var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read, location.Length - read), offset + read, cancellationToken);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                if (read != location.Length || hasher.Compute(buffer.AsSpan(0, location.Length)) != id)
                {
                    return $"bytes {offset}..{offset + location.Length - 1} do not hash to the recorded chunk {id}";
                }

                offset += location.Length;
            }

            return null;
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
