using System.Collections.Concurrent;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Maintenance;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Postgres.Wal;

/// <summary>What <see cref="WalVerifier"/> found: damage (with the backups whose recovery it cuts short) and how much it read.</summary>
public sealed record WalVerifyReport(int Archives, int Files, int FilesRead, long BytesRead, List<DamageItem> Damage);

/// <summary>
/// Checks the WAL archive of every cluster among the backups (repository format, "WAL archive", verification):
/// each backup's WAL from its start is archived without a gap up to its end (else the backup cannot be restored), and
/// no segment is missing before later segments of the same timeline (else recovery stops at the gap, short of WAL the
/// archive holds). With <c>readData</c> every archived WAL file is read and opened (authenticated) and each segment's
/// first page header is checked against its name: a damaged file would make recovery stop there.
/// </summary>
public static class WalVerifier
{
    public static async Task<WalVerifyReport> VerifyAsync(Repo repository, IReadOnlyList<Manifest> manifests, bool readData, int parallelism, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var damage = new List<DamageItem>();
        var archives = 0;
        var files = 0;
        var filesRead = 0;
        long bytesRead = 0;
        var clusters = manifests
            .Select(m => (Manifest: m, Info: ClusterBackupInfo.FromDetails(m.Details)))
            .Where(x => x.Info is not null)
            .GroupBy(x => (x.Manifest.Source, x.Info!.SystemId));
        foreach (var group in clusters)
        {
            archives++;
            var backups = group.Select(x => new PhysicalBackup(x.Manifest, x.Info!)).OrderBy(b => b.Info.StopTime).ToList();
            var segmentSize = backups[^1].Info.WalSegmentSize is > 0 and var s ? s : WalFileName.DefaultSegmentSize;
            var archive = new WalArchive(repository, group.Key.Source, group.Key.SystemId, segmentSize);
            progress?.Report($"checking the WAL archive of source '{archive.Source}'");
            var wal = await archive.ListAsync(cancellationToken);
            files += wal.Count;

            List<RecoverableSpan> spans;
            try
            {
                spans = await RecoveryWindow.ComputeAsync(archive, backups, cancellationToken);
            }
            catch (DamageException ex)
            {
                // A damaged timeline history: the path of that timeline cannot be known, nor its continuity checked.
                damage.AddRange(ex.DamagedObjects.Select(o => new DamageItem(o, ex.Message, backups.Select(b => b.Manifest.Id).ToList())));
                spans = [];
            }

            damage.AddRange(Continuity(archive, spans, wal));

            if (readData)
            {
                var firstNeeded = backups.Min(b => b.Info.Start.Segment(segmentSize));
                var toRead = wal.Where(w => w.Wal.Kind == WalFileKind.History || w.Wal.SegmentNumber >= firstNeeded).ToList();
                var found = new ConcurrentBag<DamageItem>();
                var done = 0;
                await Parallel.ForEachAsync(toRead, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken }, async (w, ct) =>
                {
                    var problem = await ReadAsync(archive, w, ct);
                    if (problem is not null)
                    {
                        found.Add(new DamageItem(w.ObjectName, problem, Affected(backups, w.Wal, segmentSize)));
                    }

                    Interlocked.Add(ref bytesRead, w.StoredSize);
                    var n = Interlocked.Increment(ref done);
                    if (n % 64 == 0 || n == toRead.Count)
                    {
                        progress?.Report($"read {n}/{toRead.Count} WAL files of source '{archive.Source}'");
                    }
                });
                filesRead += toRead.Count;
                damage.AddRange(found);
            }
        }

        return new WalVerifyReport(archives, files, filesRead, bytesRead, damage);
    }

    /// <summary>Backups whose recovery replays <paramref name="wal"/>: every one that starts at or before it (a history file: all).</summary>
    private static List<string> Affected(List<PhysicalBackup> backups, WalFileName wal, long segmentSize)
        => backups.Where(b => wal.Kind == WalFileKind.History || b.Info.Start.Segment(segmentSize) <= wal.SegmentNumber)
            .Select(b => b.Manifest.Id).Order(StringComparer.Ordinal).ToList();

    /// <summary>Gaps: a segment a backup needs to be consistent, or one missing before later archived WAL.</summary>
    private static IEnumerable<DamageItem> Continuity(WalArchive archive, List<RecoverableSpan> spans, List<ArchivedWal> wal)
    {
        var segments = wal.Where(w => w.Wal.Kind == WalFileKind.Segment).ToList();
        foreach (var span in spans)
        {
            if (span.MissingSegment is null || !WalFileName.TryParse(span.MissingSegment, archive.SegmentSize, out var missing))
            {
                continue;
            }

            var objectName = archive.ObjectName(missing!);
            if (span.LatestTime is null)
            {
                yield return new DamageItem(objectName, $"WAL segment {missing!.Name} is missing: backup {span.BackupId} cannot be restored (its WAL from the start of the backup to its end is not all archived)", [span.BackupId]);
                continue;
            }

            var later = segments.Count(w => w.Wal.SegmentNumber > missing!.SegmentNumber && (w.Wal.Timeline == missing.Timeline || w.Wal.Timeline == span.Timeline));
            if (later > 0)
            {
                yield return new DamageItem(
                    objectName,
                    $"WAL segment {missing!.Name} is missing, but {later} later segment(s) are archived: recovery from backup {span.BackupId} on timeline {span.Timeline} stops at LSN {span.LatestLsn}, before WAL the archive holds",
                    [span.BackupId]);
            }
        }
    }

    /// <summary>Reads and opens one archived WAL file; null when it is sound, else what is wrong.</summary>
    private static async Task<string?> ReadAsync(WalArchive archive, ArchivedWal w, CancellationToken cancellationToken)
    {
        byte[]? content;
        try
        {
            content = await archive.LoadAsync(w.ObjectName, w.Wal.Name, cancellationToken);
        }
        catch (DamageException ex)
        {
            return ex.Message;
        }

        if (content is null)
        {
            return $"archived WAL file {w.Wal.Name} was listed but cannot be read (deleted while verify ran?)";
        }

        if (!w.Wal.IsSegmentLike)
        {
            return null;
        }

        WalHeader header;
        try
        {
            header = WalHeader.Parse(content, $"archived WAL file {w.Wal.Name}");
        }
        catch (LifeboatException ex)
        {
            return ex.Message;
        }

        var expectedAddress = w.Wal.SegmentNumber * (ulong)archive.SegmentSize;
        if (header.SystemIdentifier != archive.SystemIdentifier || header.Timeline != w.Wal.Timeline || header.PageAddress != expectedAddress)
        {
            return $"archived WAL file {w.Wal.Name} holds another segment (system identifier {header.SystemIdentifier}, timeline {header.Timeline}, LSN {new Lsn(header.PageAddress)}): recovery would refuse it";
        }

        if (w.Wal.Kind == WalFileKind.Segment && content.Length != archive.SegmentSize)
        {
            return $"archived WAL file {w.Wal.Name} has {content.Length} bytes, a segment has {archive.SegmentSize}";
        }

        return null;
    }
}
