using Lifeboat.Core;
using Lifeboat.Repository.Format;

namespace Lifeboat.Postgres.Wal;

/// <summary>A cluster backup and what it records.</summary>
public sealed record PhysicalBackup(Manifest Manifest, ClusterBackupInfo Info);

/// <summary>
/// The span a backup can recover to on one timeline: from its stop point to the end of the WAL archived without a gap
/// after it. <see cref="LatestTime"/> is the last point a time target can reach: the latest commit or abort recorded in
/// that WAL after the backup's end (a recovery_target_time is reached only by replaying a later commit or abort), or the
/// backup's end when there is none; null when the backup cannot become consistent. <see cref="ArchivedUntil"/> is when the
/// last contiguous segment was archived.
/// </summary>
public sealed record RecoverableSpan(uint Timeline, string BackupId, DateTimeOffset EarliestTime, Lsn EarliestLsn, DateTimeOffset? LatestTime, Lsn LatestLsn, string? MissingSegment, DateTimeOffset? ArchivedUntil = null);

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
        var summaries = new Dictionary<string, WalSegmentSummary?>(StringComparer.Ordinal);
        foreach (var backup in backups)
        {
            foreach (var tli in timelines.Count == 0 ? [backup.Info.Timeline] : timelines)
            {
                var history = histories.GetValueOrDefault(tli) ?? [new TimelineSpan(tli, Lsn.Zero, Lsn.Zero)];
                if (!TimelineHistory.Contains(history, backup.Info.Timeline, backup.Info.Stop))
                {
                    continue; // this timeline does not descend from the backup's position
                }

                var (span, path) = Span(backup, tli, history, segments, archive.SegmentSize);
                if (span.LatestTime is not null)
                {
                    span = span with { LatestTime = await LastStopAsync(archive, backup, path, summaries, cancellationToken) };
                }

                result.Add(span);
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

    /// <summary>
    /// The latest commit or abort after the backup's end in the contiguous WAL (read from the last segment that has one,
    /// going back to the backup's end); the backup's end when there is none.
    /// </summary>
    private static async Task<DateTimeOffset> LastStopAsync(WalArchive archive, PhysicalBackup backup, List<ArchivedWal> path, Dictionary<string, WalSegmentSummary?> cache, CancellationToken cancellationToken)
    {
        var stopSegment = new Lsn(backup.Info.Stop.Value - 1).Segment(archive.SegmentSize);
        for (var i = path.Count - 1; i >= 0 && path[i].Wal.SegmentNumber >= stopSegment; i--)
        {
            if (!cache.TryGetValue(path[i].ObjectName, out var summary))
            {
                summary = await archive.SummaryAsync(path[i], cancellationToken);
                cache[path[i].ObjectName] = summary;
            }

            if (summary is { LastXactTime: { } time, LastXactLsn: { } lsn } && lsn >= backup.Info.Stop)
            {
                return time > backup.Info.StopTime ? time : backup.Info.StopTime;
            }
        }

        return backup.Info.StopTime;
    }

    private static (RecoverableSpan Span, List<ArchivedWal> Path) Span(PhysicalBackup backup, uint tli, List<TimelineSpan> history, Dictionary<(uint, ulong), ArchivedWal> segments, long segmentSize)
    {
        var first = backup.Info.Start.Segment(segmentSize);
        var needed = new Lsn(backup.Info.Stop.Value - 1).Segment(segmentSize);
        ArchivedWal? last = null;
        var path = new List<ArchivedWal>();
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
            path.Add(found);
        }

        var lastSegment = last?.Wal.SegmentNumber ?? 0;
        var complete = last is not null && lastSegment >= needed;
        return (new RecoverableSpan(
            tli,
            backup.Manifest.Id,
            backup.Info.StopTime,
            backup.Info.Stop,
            complete ? last!.Archived ?? backup.Info.StopTime : null,
            complete ? new Lsn((lastSegment + 1) * (ulong)segmentSize) : Lsn.Zero,
            missing,
            complete ? last!.Archived : null), path);
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
