using Lifeboat.Core;
using Lifeboat.Core.Retention;
using Lifeboat.Postgres;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.Operations;

/// <summary>Which archived WAL files of one cluster (one system identifier) retention keeps.</summary>
/// <param name="OpenFrom">Every segment from this one on is kept (the base of the PITR window, or the oldest retained backup).</param>
/// <param name="Ranges">Each retained backup's own WAL, first to last segment.</param>
public sealed record WalKeepRule(ulong SystemId, long SegmentSize, ulong? OpenFrom, IReadOnlyList<(ulong From, ulong To)> Ranges, string? ContinuousFrom)
{
    /// <summary>Timeline history files are always kept.</summary>
    public bool Keeps(WalFileName wal)
        => wal.Kind == WalFileKind.History
           || (OpenFrom is { } from && wal.SegmentNumber >= from)
           || Ranges.Any(r => wal.SegmentNumber >= r.From && wal.SegmentNumber <= r.To);
}

/// <summary>
/// The WAL a source's retained backups need: each retained backup's own range (start to stop segment), and from the base
/// of the PITR window (or, without a window, from the oldest retained backup) everything after it. Shared by expire (what
/// to delete) and replication (what a secondary with its own retention needs copied).
/// </summary>
public static class WalRetention
{
    /// <param name="manifests">The source's backups on the target (kept and expired).</param>
    /// <param name="currentSystemId">The cluster the source is now (its WAL is planned even before its first backup).</param>
    public static List<WalKeepRule> Rules(IReadOnlyList<Manifest> manifests, ulong? currentSystemId, IReadOnlyList<RetentionDecision> decisions, RetentionPolicy policy)
    {
        var kept = decisions.Where(d => d.Keep).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
        var infos = manifests.Select(m => (m.Id, Info: ClusterBackupInfo.FromDetails(m.Details))).Where(x => x.Info is not null).ToList();
        var systemIds = infos.Select(x => x.Info!.SystemId);
        if (currentSystemId is { } current)
        {
            systemIds = systemIds.Append(current);
        }

        var rules = new List<WalKeepRule>();
        foreach (var sysid in systemIds.Distinct())
        {
            var ofCluster = infos.Where(x => x.Info!.SystemId == sysid).ToList();
            var segmentSize = ofCluster.FirstOrDefault().Info?.WalSegmentSize ?? WalFileName.DefaultSegmentSize;
            var retained = ofCluster.Where(x => kept.Contains(x.Id)).Select(x => x.Info!).ToList();
            var ranges = retained.Select(i => (From: i.Start.Segment(segmentSize), To: new Lsn(i.Stop.Value - 1).Segment(segmentSize))).ToList();
            ulong? openFrom = null;
            string? continuousFrom = null;
            if (retained.Count > 0)
            {
                var anchorId = decisions.FirstOrDefault(d => d.Keep && d.Reasons.Any(r => r.StartsWith("needed for the PITR window", StringComparison.Ordinal)))?.Id;
                var anchor = policy.PitrWindow is not null && anchorId is not null
                    ? ofCluster.FirstOrDefault(x => x.Id == anchorId).Info
                    : retained.OrderBy(i => i.Start).First();
                if (anchor is not null)
                {
                    openFrom = anchor.Start.Segment(segmentSize);
                    continuousFrom = WalFileName.SegmentName(anchor.Timeline, openFrom.Value, segmentSize);
                }
            }

            rules.Add(new WalKeepRule(sysid, segmentSize, openFrom, ranges, continuousFrom));
        }

        return rules;
    }
}
