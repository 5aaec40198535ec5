using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;
using Lifeboat.Platform;

namespace Lifeboat.Engine.Operations;

/// <summary>
/// What a backup will add to the repository, estimated before it starts (<see cref="SpaceCheck"/>) and named when a
/// target fills up anyway.
/// </summary>
/// <param name="Stored">The likely bytes stored: half of <paramref name="Input"/> (compression), or what the previous dump stored.</param>
/// <param name="Input">
/// The most the backup can add before compression: the files changed since the previous backup, the WAL written since
/// the previous cluster backup (no more than the cluster's size), the database's size.
/// </param>
/// <param name="Basis">How it was found, for people ("17 B in 1 file(s) changed since backup …").</param>
public sealed record SpaceEstimate(long Stored, long Input, string Basis)
{
    /// <summary>Half of <paramref name="input"/> is stored: a fair guess of compression, which is all a pre-check needs.</summary>
    public static SpaceEstimate HalfOf(long input, string basis) => new(input / 2, input, "half of " + basis);

    /// <summary>
    /// The bytes of the regular files below <paramref name="roots"/> whose content or inode changed at or after
    /// <paramref name="since"/> (mtime or ctime; a renamed or restored file has a new ctime), or all of them without a
    /// <paramref name="since"/>. Unreadable entries count as nothing: the backup itself reports them.
    /// </summary>
    public static (long Bytes, long Files) ChangedFiles(IEnumerable<string> roots, DateTimeOffset? since)
    {
        var sinceNs = since is { } s ? (s.UtcTicks - DateTime.UnixEpoch.Ticks) * 100 : long.MinValue;
        long bytes = 0, files = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
        foreach (var root in roots)
        {
            IEnumerable<string> paths;
            if (Unix.Lstat(root) is { Kind: FileKind.Regular })
            {
                paths = [root];
            }
            else
            {
                try
                {
                    paths = Directory.EnumerateFiles(root, "*", options);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }
            }

            try
            {
                foreach (var path in paths)
                {
                    if (Unix.Lstat(path) is { Kind: FileKind.Regular } stat && (stat.MTimeNs >= sinceNs || stat.CTimeNs >= sinceNs))
                    {
                        bytes += stat.Size;
                        files++;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }

        return (bytes, files);
    }
}

/// <summary>
/// Before every backup: is there room on a local repository's file system for it? The estimate is what this backup
/// will add (<see cref="SpaceEstimate"/>: the files changed since the previous backup of the source, the WAL written
/// since the previous cluster backup, the previous dump's stored size; half of the source for a first backup), plus
/// 25 % (WAL and index). Fails early with the numbers instead of filling the disk. Remote targets report their own
/// quota errors; a disk that fills up anyway ends as <see cref="ErrorCode.NoSpace"/> (<see cref="NoSpaceDuringBackup"/>).
/// </summary>
public static class SpaceCheck
{
    public const double Margin = 1.25;

    public static async Task<SpaceEstimate?> EnsureAsync(Repository.Repository repository, string sourceName, SourceOptions source, Sources.ISourceHandler handler, CancellationToken cancellationToken)
    {
        if (repository.Target.Innermost() is not LocalTarget local)
        {
            return null;
        }

        var free = new DriveInfo(local.Root).AvailableFreeSpace;
        var previous = await Backups.LatestAsync(repository, sourceName, cancellationToken);
        if (previous is not null && free >= previous.Stats.Bytes * Margin)
        {
            // Room for all of the previous backup's content again is room for what changed since: the handler's
            // estimate (a walk of the whole file tree, a query of the server) is only needed when space is short.
            return SpaceEstimate.HalfOf(previous.Stats.Bytes, $"the {ByteSize.Format(previous.Stats.Bytes)} backup {previous.Id} held");
        }

        var estimate = await handler.EstimateBackupAsync(sourceName, source, previous, cancellationToken);
        var needed = (long)(estimate.Stored * Margin);
        if (free < needed)
        {
            throw new LifeboatException(
                ErrorCode.NoSpace,
                $"not enough free space for a backup of '{sourceName}': {ByteSize.Format(free)} free on the repository's file system ({local.Root}), about {ByteSize.Format(needed)} needed ({estimate.Basis}, plus 25 %)",
                "free space there, run `lifeboat expire`, or move the repository; nothing was written");
        }

        return estimate;
    }

    /// <summary>The estimate for the next backup of the source, from its previous backup in the repository (if any).</summary>
    public static async Task<SpaceEstimate> EstimateAsync(Repository.Repository repository, string sourceName, SourceOptions source, Sources.ISourceHandler handler, CancellationToken cancellationToken)
    {
        var previous = await Backups.LatestAsync(repository, sourceName, cancellationToken);
        return await handler.EstimateBackupAsync(sourceName, source, previous, cancellationToken);
    }

    /// <summary>
    /// A target that filled up in the middle of a backup, as the operator needs to read it: which target, how much the
    /// backup needed at most and how much is free now that its partial pack is gone (the writer removes it before the
    /// error gets here). Exit 2, HTTP 507.
    /// </summary>
    public static LifeboatException NoSpaceDuringBackup(TargetException error, Repository.Repository repository, string targetName, string sourceName, SpaceEstimate? estimate)
    {
        var where = $"target {targetName} ({repository.Target.DisplayName})";
        string detail;
        if (repository.Target.Innermost() is not LocalTarget && error.Message.StartsWith(Repository.Writing.RepositoryWriter.StagingFailurePrefix, StringComparison.Ordinal))
        {
            // A remote target's packs are staged in a local directory first: that one is full, not the target.
            return new LifeboatException(
                ErrorCode.NoSpace,
                $"no space left for staging packs during the backup of '{sourceName}' to {where}: {error.Message}",
                "free space in that directory (the system's temporary directory unless configured), then run the backup again; nothing was committed",
                error);
        }

        if (repository.Target.Innermost() is LocalTarget local)
        {
            var free = new DriveInfo(local.Root).AvailableFreeSpace;
            detail = estimate is null
                ? $"{ByteSize.Format(free)} free"
                : $"needed about {ByteSize.Format(Math.Max(estimate.Input, (long)(estimate.Stored * Margin)))}, {ByteSize.Format(free)} free";
        }
        else
        {
            detail = error.Message;
        }

        return new LifeboatException(
            ErrorCode.NoSpace,
            $"no space left on {where} during the backup of '{sourceName}': {detail}",
            "free space there, run `lifeboat expire`, or move the repository, then run the backup again; the partial pack was removed and the repository is consistent",
            error);
    }
}
