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

    public static async Task EnsureAsync(Repository.Repository repository, string sourceName, SourceOptions source, Sources.ISourceHandler handler, CancellationToken cancellationToken)
    {
        if (repository.Target.Innermost() is not LocalTarget local)
        {
            return;
        }

        var (estimate, basis) = await EstimateAsync(repository, sourceName, source, handler, cancellationToken);
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

    public static async Task<(long Bytes, string Basis)> EstimateAsync(Repository.Repository repository, string sourceName, SourceOptions source, Sources.ISourceHandler handler, CancellationToken cancellationToken)
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

        // A first backup: half of the input is a fair guess (a dump is about the size of the database's rows).
        var (size, what) = await handler.FirstBackupSizeAsync(sourceName, source, cancellationToken);
        return (size / 2, $"half of {what}, for a first backup");
    }
}
