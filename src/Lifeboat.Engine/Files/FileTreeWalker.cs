using Lifeboat.Core;
using Lifeboat.Platform;

namespace Lifeboat.Engine.Files;

/// <summary>A path found by the walker: raw paths (<see cref="RawPath"/>), so names that are not UTF-8 are kept byte for byte.</summary>
public sealed record WalkEntry(string RelativePath, string FullPath, FileStat Stat, string? LinkTarget);

/// <summary>
/// Walks a directory tree without following symlinks, in <see cref="TreeOrder"/> (a directory, then its contents,
/// siblings by name), applying include and exclude globs. Problems with single paths are reported, not thrown.
/// Directories are listed by bytes and every path is a <see cref="RawPath"/>: a name that is not UTF-8 is found,
/// stat'ed and read like any other. FIFOs and device files are entries (metadata only); sockets are not (nothing can
/// recreate one that means anything): they are listed in <see cref="Sockets"/>.
/// </summary>
public sealed class FileTreeWalker
{
    private static readonly StringComparer NameOrder = Comparer.Instance;
    private readonly IReadOnlyList<GlobPattern> _include;
    private readonly IReadOnlyList<GlobPattern> _exclude;

    public FileTreeWalker(IReadOnlyList<GlobPattern> include, IReadOnlyList<GlobPattern> exclude)
    {
        _include = include;
        _exclude = exclude;
    }

    /// <summary>Paths that could not be read (permission denied…), with the reason; paths as <see cref="RawPath.Display"/>.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>Full paths that were listed in their directory but were gone when the walker came to them.</summary>
    public List<string> Vanished { get; } = [];

    /// <summary>The full paths (raw) of the sockets found, which are not backed up.</summary>
    public List<string> Sockets { get; } = [];

    /// <summary>
    /// The entries under <paramref name="root"/>, the root first. A root that is a symlink to a directory is followed (the
    /// root entry is that directory); symlinks inside the tree are entries of their own, never followed.
    /// </summary>
    public IEnumerable<WalkEntry> Walk(string root)
    {
        var rootStat = Unix.Lstat(root) ?? throw new DirectoryNotFoundException(root);
        if (rootStat.Kind == FileKind.Symlink && Unix.Stat(root) is { Kind: FileKind.Directory } followed)
        {
            rootStat = followed;
        }

        yield return new WalkEntry("", root, rootStat, null);

        // Depth-first with an explicit stack of sorted listings: a directory is yielded, then walked whole,
        // before its next sibling (TreeOrder).
        var stack = new Stack<Listing>();
        stack.Push(List(root, ""));
        while (stack.Count > 0)
        {
            var listing = stack.Peek();
            if (listing.Next >= listing.Names.Length)
            {
                stack.Pop();
                continue;
            }

            var name = listing.Names[listing.Next++];
            var full = Path.Combine(listing.Full, name);
            var relative = listing.Relative.Length == 0 ? name : listing.Relative + "/" + name;
            FileStat? stat;
            try
            {
                stat = Unix.Lstat(full);
            }
            catch (IOException ex)
            {
                Problems.Add($"{RawPath.Display(relative)}: {ex.Message}");
                continue;
            }

            if (stat is null)
            {
                // Deleted since the directory was listed: not an error, but the backup says so (unless the globs
                // would have left it out anyway: excluded temporary files come and go all the time).
                if (!_exclude.Any(g => g.IsMatch(relative, false)) && Included(relative))
                {
                    Vanished.Add(full);
                }

                continue;
            }

            var isDirectory = stat.Value.Kind == FileKind.Directory;
            if (_exclude.Any(g => g.IsMatch(relative, isDirectory)))
            {
                continue;
            }

            switch (stat.Value.Kind)
            {
                case FileKind.Directory:
                    yield return new WalkEntry(relative, full, stat.Value, null);
                    stack.Push(List(full, relative));
                    break;
                case FileKind.Regular when Included(relative):
                    yield return new WalkEntry(relative, full, stat.Value, null);
                    break;
                case FileKind.Symlink when Included(relative):
                    string? target = null;
                    try
                    {
                        target = Unix.ReadLink(full);
                    }
                    catch (IOException ex)
                    {
                        Problems.Add($"{RawPath.Display(relative)}: cannot read the link ({ex.Message})");
                    }

                    if (target is not null)
                    {
                        yield return new WalkEntry(relative, full, stat.Value, target);
                    }

                    break;
                case FileKind.Fifo or FileKind.CharDevice or FileKind.BlockDevice when Included(relative):
                    yield return new WalkEntry(relative, full, stat.Value, null);
                    break;
                case FileKind.Socket when Included(relative):
                    Sockets.Add(full);
                    break;
            }
        }
    }

    private bool Included(string relative) => _include.Count == 0 || _include.Any(g => g.IsMatch(relative, false));

    private Listing List(string full, string relative)
    {
        try
        {
            var names = Unix.ListDirectory(full).ToArray();
            Array.Sort(names, NameOrder);
            return new Listing(full, relative, names);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            Problems.Add($"{(relative.Length == 0 ? "." : RawPath.Display(relative))}: {ex.Message}");
            return new Listing(full, relative, []);
        }
    }

    private sealed class Listing(string full, string relative, string[] names)
    {
        public string Full { get; } = full;

        public string Relative { get; } = relative;

        public string[] Names { get; } = names;

        public int Next { get; set; }
    }

    private sealed class Comparer : StringComparer
    {
        public static Comparer Instance { get; } = new();

        public override int Compare(string? x, string? y) => TreeOrder.Instance.Compare(x, y);

        public override bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public override int GetHashCode(string obj) => obj.GetHashCode(StringComparison.Ordinal);
    }
}
