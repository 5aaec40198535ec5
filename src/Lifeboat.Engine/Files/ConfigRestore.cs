using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Trees;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Files;

/// <summary>
/// Restores a config set. By default into a review directory only this user can read (the files keep their absolute
/// paths below it: DIR/etc/app/.env), so that secrets are compared before they replace anything; with
/// <c>--overwrite</c> and no <c>--to</c>, back to their original places, leaving the directories above them as they are.
/// </summary>
public static class ConfigRestore
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The default review directory: lifeboat-review-SOURCE-ID in the working directory.</summary>
    public static string ReviewDirectoryName(Manifest manifest) => $"lifeboat-review-{manifest.Source}-{manifest.Id}";

    /// <param name="destination">The review directory, or null for the original places.</param>
    public static async Task<FilesRestoreResult> RunAsync(Repo repository, ChunkIndex index, Manifest manifest, string? destination, IReadOnlyList<GlobPattern> paths, bool overwrite, int workers, IProgress<RestoreProgress>? progress, CancellationToken cancellationToken)
    {
        var configured = (manifest.Paths ?? []).Select(p => p.TrimEnd('/')).ToList();
        bool Inside(string treePath) => configured.Any(p => "/" + treePath == p || ("/" + treePath).StartsWith(p + "/", StringComparison.Ordinal));
        if (destination is not null)
        {
            destination = Path.GetFullPath(destination);
            FilesRestore.PrepareDestination(destination, overwrite);
            File.SetUnixFileMode(destination, Private);
        }

        var result = await new TreeRestorer(repository, index).RunAsync(
            manifest,
            new TreeRestoreOptions
            {
                Map = entry =>
                {
                    if (entry.Path.Length == 0)
                    {
                        return null; // the review directory keeps its private mode; "/" is never touched
                    }

                    if (paths.Count > 0 && !paths.Any(g => g.MatchesSelfOrParent(entry.Path, entry.Type == EntryType.Directory)))
                    {
                        return null;
                    }

                    var target = destination is null ? "/" + entry.Path : Path.Combine(destination, entry.Path);
                    if (destination is null && !Inside(entry.Path))
                    {
                        // A directory above a configured path (/etc): make sure it exists, never change it.
                        Lifeboat.Platform.Unix.CreateDirectory(target);
                        return null;
                    }

                    Lifeboat.Platform.Unix.CreateDirectory(Path.GetDirectoryName(target)!);
                    return target;
                },
                Overwrite = overwrite,
                Workers = workers,
            },
            progress,
            cancellationToken);
        return FilesRestoreResult.From(result);
    }

    /// <summary>Globs given with a leading '/' (absolute paths, as users think of config files) match the tree's relative paths.</summary>
    public static GlobPattern Glob(string pattern) => new(pattern.TrimStart('/'));
}
