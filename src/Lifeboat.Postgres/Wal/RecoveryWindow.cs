using Lifeboat.Core;
using Lifeboat.Repository.Format;

namespace Lifeboat.Postgres.Wal;

/// <summary>A cluster backup and what it records.</summary>
public sealed record PhysicalBackup(Manifest Manifest, ClusterBackupInfo Info);

/// <summary>
/// The span a backup can recover to on one timeline: from its stop point to the end of the WAL archived without a gap
/// after it. <see cref="LatestTime"/> is when the last contiguous segment was archived (every record in it is older).
/// </summary>
public sealed record RecoverableSpan(uint Timeline, string BackupId, DateTimeOffset EarliestTime, Lsn EarliestLsn, DateTimeOffset? LatestTime, Lsn LatestLsn, string? MissingSegment);

/// <summary>Per timeline: earliest and latest recoverable points over all backups.</summary>
public sealed record TimelineWindow(uint Timeline, DateTimeOffset Earliest, DateTimeOffset? Latest, Lsn LatestLsn, IReadOnlyList<string> Backups);

/// <summary>Computes what the backups and the archived WAL of a cluster can recover to.</summary>
public static class RecoveryWindow
{
    public static async Task<List<RecoverableSpan>> ComputeAsync(WalArchive archive, IReadOnlyList<PhysicalBackup> backups, CancellationToken cancellationToken)
    {
        var wal = await archive.ListAsync(cancellationToken);
        var segments = new Dictionary<(uint Tli, ulong Seg), ArchivedWal>();
        var timelines = new SortedSet<uint>();
        foreach (var w in wal)
        {
            if (w.Wal.Kind == WalFileKind.Segment)
            {
                segments[(w.Wal.Timeline, w.Wal.SegmentNumber)] = w;
                timelines.Add(w.Wal.Timeline);
            }
            else if (w.Wal.Kind == WalFileKind.History)
            {
                timelines.Add(w.Wal.Timeline);
            }
        }

        var histories = new Dictionary<uint, List<TimelineSpan>>();
        foreach (var tli in timelines)
        {
            histories[tli] = await HistoryAsync(archive, tli, cancellationToken);
        }

        var result = new List<RecoverableSpan>();
        foreach (var backup in backups)
        {
            foreach (var tli in timelines.Count == 0 ? [backup.Info.Timeline] : timelines)
            {
                var history = histories.GetValueOrDefault(tli) ?? [new TimelineSpan(tli, Lsn.Zero, Lsn.Zero)];
                if (!TimelineHistory.Contains(history, backup.Info.Timeline, backup.Info.Stop))
                {
                    continue; // this timeline does not descend from the backup's position
                }

                result.Add(Span(backup, tli, history, segments, archive.SegmentSize));
            }
        }

        return result;
    }

    /// <summary>Combines spans per timeline.</summary>
    public static List<TimelineWindow> ByTimeline(IEnumerable<RecoverableSpan> spans)
        => spans.GroupBy(s => s.Timeline)
            .OrderBy(g => g.Key)
            .Select(g => new TimelineWindow(
                g.Key,
                g.Min(s => s.EarliestTime),
                g.Max(s => s.LatestTime),
                g.Max(s => s.LatestLsn),
                g.Select(s => s.BackupId).Distinct().Order(StringComparer.Ordinal).ToList()))
            .ToList();

    public static async Task<List<TimelineSpan>> HistoryAsync(WalArchive archive, uint timeline, CancellationToken cancellationToken)
    {
        if (timeline == 1)
        {
            return [new TimelineSpan(1, Lsn.Zero, Lsn.Zero)];
        }

        var name = $"{timeline:X8}.history";
        var content = await archive.LoadAsync(archive.ObjectName(archive.ParseName(name)), name, cancellationToken);
        if (content is null)
        {
            return [new TimelineSpan(timeline, Lsn.Zero, Lsn.Zero)];
        }

        return TimelineHistory.Parse(timeline, System.Text.Encoding.UTF8.GetString(content));
    }

    private static RecoverableSpan Span(PhysicalBackup backup, uint tli, List<TimelineSpan> history, Dictionary<(uint, ulong), ArchivedWal> segments, long segmentSize)
    {
        var first = backup.Info.Start.Segment(segmentSize);
        var needed = new Lsn(backup.Info.Stop.Value - 1).Segment(segmentSize);
        ArchivedWal? last = null;
        string? missing = null;
        for (var seg = first; ; seg++)
        {
            var onTimeline = TimelineOfSegment(history, seg, segmentSize);
            if (!segments.TryGetValue((onTimeline, seg), out var found))
            {
                missing = WalFileName.SegmentName(onTimeline, seg, segmentSize);
                break;
            }

            last = found;
        }

        var lastSegment = last?.Wal.SegmentNumber ?? 0;
        var complete = last is not null && lastSegment >= needed;
        return new RecoverableSpan(
            tli,
            backup.Manifest.Id,
            backup.Info.StopTime,
            backup.Info.Stop,
            complete ? last!.Archived : null,
            complete ? new Lsn((lastSegment + 1) * (ulong)segmentSize) : Lsn.Zero,
            missing);
    }

    /// <summary>The timeline whose WAL file holds a segment on the path of a history: the latest one that began at or before it.</summary>
    private static uint TimelineOfSegment(List<TimelineSpan> history, ulong segment, long segmentSize)
    {
        uint result = history[0].Timeline;
        foreach (var span in history)
        {
            if (span.Begin.Segment(segmentSize) <= segment)
            {
                result = span.Timeline;
            }
        }

        return result;
    }
}
