using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Platform;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Files;

/// <summary>
/// A config set: files and directories holding secrets (.env, appsettings.*.json, YAML), backed up with their absolute
/// paths (tree path = the path without its leading '/'), only into an encrypted repository. Their contents never appear
/// in output: like every backup, only names and sizes are printed.
/// </summary>
public static class ConfigBackup
{
    /// <summary>Checks before anything is written: every path exists and is readable, and the repository is encrypted.</summary>
    public static void Check(string sourceName, ConfigSourceOptions source, Repo? repository)
    {
        if (repository is not null && !repository.Config.IsEncrypted)
        {
            throw new LifeboatException(ErrorCode.Refused, $"config source '{sourceName}' holds secrets and the repository {repository.DisplayName} is not encrypted", "back up config sets only into an encrypted repository (repo init without «insecureNoEncryption»)");
        }

        foreach (var path in source.Paths)
        {
            const string Fix = "create it, or fix the path (`source add-config NAME --path FILE_OR_DIR`, or Sources:{0}:Paths in the configuration file)";
            FileStat? stat;
            try
            {
                stat = Unix.Lstat(path);
            }
            catch (IOException ex)
            {
                // ENOTDIR (a part of the path is a file), ELOOP, ENAMETOOLONG…: the path cannot name a file.
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path {path} of config source '{sourceName}' cannot be used: {ex.Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, Fix, sourceName), ex);
            }

            if (stat is null)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path {path} of config source '{sourceName}' does not exist", string.Format(System.Globalization.CultureInfo.InvariantCulture, Fix, sourceName));
            }

            try
            {
                if (stat.Value.Kind == FileKind.Directory)
                {
                    _ = Directory.EnumerateFileSystemEntries(path).FirstOrDefault();
                }
                else if (stat.Value.Kind == FileKind.Symlink)
                {
                    // Stored as a symlink (a config set keeps links as they are), but one to nothing is a mistake.
                    if (Unix.Stat(path) is null)
                    {
                        throw new LifeboatException(ErrorCode.InvalidInput, $"the path {path} of config source '{sourceName}' is a symlink to {new FileInfo(path).LinkTarget}, which does not exist", string.Format(System.Globalization.CultureInfo.InvariantCulture, Fix, sourceName));
                    }
                }
                else if (stat.Value.Kind == FileKind.Regular)
                {
                    using var _ = File.OpenRead(path);
                }
            }
            catch (UnauthorizedAccessException)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path {path} of config source '{sourceName}' cannot be read by this user", "run lifeboat as a user that can read it (or as root)");
            }
            catch (IOException ex)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the path {path} of config source '{sourceName}' cannot be read: {ex.Message}", string.Format(System.Globalization.CultureInfo.InvariantCulture, Fix, sourceName), ex);
            }
        }
    }

    public static async Task<BackupOutcome> RunAsync(Repo repository, string sourceName, ConfigSourceOptions source, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
    {
        Check(sourceName, source, repository);
        var walker = new FileTreeWalker([], []);
        IEnumerable<(WalkEntry, string)> Entries()
        {
            var all = new Dictionary<string, WalkEntry>(StringComparer.Ordinal);
            foreach (var path in source.Paths.Select(p => Path.GetFullPath(p).TrimEnd('/')).Distinct())
            {
                // The directories leading to the path, so that a restore recreates them with their modes.
                var parts = path.Trim('/').Split('/');
                for (var i = 1; i < parts.Length; i++)
                {
                    var dir = "/" + string.Join('/', parts[..i]);
                    if (Unix.Lstat(dir) is { } stat)
                    {
                        all.TryAdd(dir.TrimStart('/'), new WalkEntry(dir.TrimStart('/'), dir, stat, null));
                    }
                }

                var rootStat = Unix.Lstat(path);
                if (rootStat is { Kind: FileKind.Directory })
                {
                    foreach (var e in walker.Walk(path))
                    {
                        var tree = e.RelativePath.Length == 0 ? path.TrimStart('/') : path.TrimStart('/') + "/" + e.RelativePath;
                        all[tree] = e with { RelativePath = tree };
                    }
                }
                else if (rootStat is { Kind: FileKind.Socket })
                {
                    walker.Sockets.Add(path);
                }
                else if (rootStat is { } fileStat)
                {
                    var link = fileStat.Kind == FileKind.Symlink ? Unix.ReadLink(path) : null;
                    all[path.TrimStart('/')] = new WalkEntry(path.TrimStart('/'), path, fileStat, link);
                }
            }

            all.TryAdd("", new WalkEntry("", "/", Unix.Lstat("/")!.Value, null));
            return all.OrderBy(kv => kv.Key, TreeOrder.Instance).Select(kv => (kv.Value, kv.Key));
        }

        return await new FilesBackup(repository, sourceName, null).BackupEntriesAsync(SourceKinds.Config, Entries, walker, full => full.TrimStart('/'), source.Paths, null, request, progress, cancellationToken);
    }
}
