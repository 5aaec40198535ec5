using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;

namespace Lifeboat.Engine.UseCases.Health;

/// <summary>
/// The facts <see cref="GetStatus"/> and <see cref="GetObjectives"/> both judge: what drills proved about a source, the
/// newest archived WAL of a cluster, and the newest point a source can be recovered to (the current RPO is its age).
/// </summary>
public static class RecoveryFacts
{
    /// <summary>The RPO objective of a cluster that sets none (Sources:NAME:Rpo).</summary>
    public static readonly TimeSpan DefaultClusterRpo = TimeSpan.FromMinutes(5);

    /// <summary>How many recent drills are looked at (status, objectives' recent violations).</summary>
    public const int RecentDrills = 20;

    /// <summary>
    /// The last point proven restorable (the newest drill whose restore and checks passed), the latest measured RTO and
    /// the newest drill, cancelled drills left out.
    /// </summary>
    public static async Task<DrillStatus> DrillStatusAsync(LifeboatCatalog catalog, string source, CancellationToken cancellationToken)
    {
        var recent = (await catalog.DrillsAsync(source, RecentDrills, cancellationToken)).Where(d => d.Result != DrillResults.Cancelled).ToList();
        var proven = recent.FirstOrDefault(d => d.Restorable) ?? (await catalog.DrillsAsync(source, 1, cancellationToken, restorableOnly: true)).FirstOrDefault();
        return new DrillStatus(source, proven, recent.FirstOrDefault(d => d.RtoMs is not null), recent.FirstOrDefault()) { Recent = recent };
    }

    /// <summary>The WAL archive of a cluster source in the repository (segment size from its newest backups).</summary>
    public static WalArchive Archive(Lifeboat.Repository.Repository repository, string name, ClusterSourceOptions source, IReadOnlyList<Manifest> own)
        => new(repository, name, source.SystemIdValue(), own.Select(m => ClusterBackupInfo.FromDetails(m.Details)?.WalSegmentSize).LastOrDefault(s => s is not null) ?? WalFileName.DefaultSegmentSize);

    /// <summary>When the newest WAL segment was archived, or null when none is.</summary>
    public static async Task<DateTimeOffset?> NewestArchivedWalAsync(WalArchive archive, CancellationToken cancellationToken)
        => (await archive.ListAsync(cancellationToken)).Where(w => w.Wal.IsSegmentLike).Select(w => w.Archived).Where(t => t is not null).DefaultIfEmpty(null).Max();

    /// <summary>
    /// The newest point <paramref name="name"/> can be recovered to: for a cluster, the newest archived WAL (else its newest
    /// backup's stop time); for the other kinds, when the newest backup finished. Null: nothing to recover from.
    /// </summary>
    public static async Task<DateTimeOffset?> NewestRecoverablePointAsync(Lifeboat.Repository.Repository repository, string name, SourceOptions source, IReadOnlyList<Manifest> own, CancellationToken cancellationToken)
    {
        var newest = own.OrderBy(m => m.Finished).LastOrDefault();
        if (source is ClusterSourceOptions cluster)
        {
            var wal = await NewestArchivedWalAsync(Archive(repository, name, cluster, own), cancellationToken);
            var backup = newest is null ? (DateTimeOffset?)null : ClusterBackupInfo.FromDetails(newest.Details)?.StopTime ?? newest.Finished;
            return wal is { } w && (backup is null || w > backup) ? w : backup;
        }

        return newest?.Finished;
    }
}
