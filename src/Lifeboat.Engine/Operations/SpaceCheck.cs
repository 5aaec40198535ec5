using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Engine.Operations;

/// <summary>
/// Before every backup: is there room on a local repository's file system for it? The estimate is the largest amount
/// a recent backup of the source stored (or, for the first one, half the source's size on disk), plus 25 % (WAL and
/// index). Fails early with the numbers instead of filling the disk. Remote targets report their own quota errors.
/// </summary>
public static class SpaceCheck
{
    public const double Margin = 1.25;

    public static async Task EnsureAsync(Repository.Repository repository, string sourceName, SourceOptions source, CancellationToken cancellationToken)
    {
        if (repository.Target.Innermost() is not LocalTarget local)
        {
            return;
        }

        var (estimate, basis) = await EstimateAsync(repository, sourceName, source, cancellationToken);
        var needed = (long)(estimate * Margin);
        var free = new DriveInfo(local.Root).AvailableFreeSpace;
        if (free < needed)
        {
            throw new LifeboatException(
                ErrorCode.Failed,
                $"not enough free space for a backup of '{sourceName}': {ByteSize.Format(free)} free on the repository's file system ({local.Root}), about {ByteSize.Format(needed)} needed ({basis}, plus 25 %)",
                "free space there, run `lifeboat expire`, or move the repository; nothing was written");
        }
    }

    public static async Task<(long Bytes, string Basis)> EstimateAsync(Repository.Repository repository, string sourceName, SourceOptions source, CancellationToken cancellationToken)
    {
        var ids = await repository.ListBackupIdsAsync(cancellationToken);
        var recent = new List<long>();
        for (var i = ids.Count - 1; i >= 0 && recent.Count < 5 && ids.Count - i <= 50; i--)
        {
            try
            {
                var m = await repository.LoadManifestAsync(ids[i], cancellationToken);
                if (m.Source == sourceName)
                {
                    recent.Add(m.Stats.StoredBytes);
                }
            }
            catch (DamageException)
            {
            }
        }

        if (recent.Count > 0)
        {
            return (recent.Max(), $"the most a recent backup of it stored was {ByteSize.Format(recent.Max())}");
        }

        if (source.Kind == SourceKinds.Database)
        {
            // A dump is about the size of the database's rows (indexes are only definitions); half of it is a fair guess.
            await using var connection = await Logical.DatabaseServer.OpenAsync(source.Connection!, source.Database, $"source '{sourceName}'", cancellationToken);
            var info = await Logical.DatabaseServer.InfoAsync(connection, cancellationToken);
            return (info.Size / 2, $"half of the database's {ByteSize.Format(info.Size)}, for a first backup");
        }

        var size = source.Kind switch
        {
            SourceKinds.Cluster => SizeOnDisk(source.PgData!),
            SourceKinds.Config => source.Paths.Sum(p => File.Exists(p) ? new FileInfo(p).Length : SizeOnDisk(p)),
            _ => source.Path is null ? 0 : SizeOnDisk(source.Path),
        };
        return (size / 2, $"half of its {ByteSize.Format(size)} on disk, for a first backup");
    }

    private static long SizeOnDisk(string root)
    {
        try
        {
            return new DirectoryInfo(root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }).Sum(f => f.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
