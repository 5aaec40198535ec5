using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>The recoverable window of one cluster source: per timeline, from the earliest consistent point to the last archived WAL.</summary>
public sealed record SourceWindow(string Source, IReadOnlyList<TimelineWindow> Timelines);

public static class RecoveryWindows
{
    /// <summary>The recoverable window of every cluster source (and cluster) among <paramref name="manifests"/>.</summary>
    public static async Task<List<SourceWindow>> ComputeAsync(Repo repository, IEnumerable<Manifest> manifests, CancellationToken cancellationToken)
    {
        var result = new List<SourceWindow>();
        var clusters = manifests
            .Select(m => (Manifest: m, Info: ClusterBackupInfo.FromDetails(m.Details)))
            .Where(x => x.Info is not null)
            .GroupBy(x => (x.Manifest.Source, x.Info!.SystemId));
        foreach (var group in clusters)
        {
            var backups = group.Select(x => new PhysicalBackup(x.Manifest, x.Info!)).OrderBy(b => b.Info.StopTime).ToList();
            var archive = new WalArchive(repository, group.Key.Source, group.Key.SystemId, backups[^1].Info.WalSegmentSize);
            var spans = await RecoveryWindow.ComputeAsync(archive, backups, cancellationToken);
            result.Add(new SourceWindow(group.Key.Source, RecoveryWindow.ByTimeline(spans)));
        }

        return result;
    }
}
