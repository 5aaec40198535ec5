using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;

namespace Lifeboat.Postgres.Tests;

public sealed class RecoveryWindowTests : IDisposable
{
    private const ulong SystemId = 7_312_345_678_901_234_567;
    private static readonly DateTimeOffset Noon = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private static PhysicalBackup Backup(string id, uint timeline, string start, string stop, DateTimeOffset stopTime)
    {
        var info = new ClusterBackupInfo
        {
            SystemIdentifier = SystemId.ToString(CultureInfo.InvariantCulture),
            ServerVersion = 150010,
            ServerVersionText = "15.10",
            CatalogVersion = 202209061,
            DataChecksums = true,
            BlockSize = 8192,
            WalSegmentSize = FakeWal.SegmentSize,
            Timeline = timeline,
            StartLsn = start,
            StopLsn = stop,
            StartWal = WalFileName.SegmentOf(timeline, Lsn.Parse(start), FakeWal.SegmentSize),
            StopWal = WalFileName.SegmentOf(timeline, Lsn.Parse(stop), FakeWal.SegmentSize),
            StartTime = stopTime.AddMinutes(-5),
            StopTime = stopTime,
            BackupLabel = $"START WAL LOCATION: {start}\n",
            PgData = "/var/lib/postgresql/15/main",
        };
        var manifest = new Manifest
        {
            Id = id,
            Source = "db",
            Kind = "cluster",
            Type = "full",
            Started = info.StartTime,
            Finished = stopTime,
            Tree = [],
            Stats = new BackupStats(),
            Details = info.ToDetails(),
        };
        return new PhysicalBackup(manifest, info);
    }

    private async Task PushSegmentsAsync(WalArchive archive, uint timeline, params ulong[] segments)
    {
        var buffer = new byte[FakeWal.SegmentSize];
        foreach (var segment in segments)
        {
            FakeWal.WriteHeader(buffer, SystemId, timeline, segment);
            var path = FakeWal.WriteFile(_dir.Path, WalFileName.SegmentName(timeline, segment, FakeWal.SegmentSize), buffer);
            Assert.Equal(PushOutcome.Stored, await archive.PushAsync(path, Ct));
            File.Delete(path);
        }
    }

    private async Task PushFileAsync(WalArchive archive, string name, byte[] content)
    {
        Assert.Equal(PushOutcome.Stored, await archive.PushAsync(FakeWal.WriteFile(_dir.Path, name, content), Ct));
    }

    private static async Task<DateTimeOffset?> ArchivedAsync(WalArchive archive, string name)
        => (await archive.ListAsync(Ct)).Single(w => w.Wal.Name == name).Archived;

    [Fact]
    public async Task Contiguous_WAL_after_a_backup_makes_it_recoverable_to_the_end_of_the_last_segment()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 2, 3, 4, 5);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/3000100", Noon);

        var spans = await RecoveryWindow.ComputeAsync(archive, [backup], Ct);

        var span = Assert.Single(spans);
        Assert.Equal(1u, span.Timeline);
        Assert.Equal("20261122-120000-0000", span.BackupId);
        Assert.Equal(Noon, span.EarliestTime);
        Assert.Equal(Lsn.Parse("0/3000100"), span.EarliestLsn);
        Assert.Equal(Lsn.Parse("0/6000000"), span.LatestLsn);
        Assert.NotNull(span.LatestTime);
        Assert.Equal(Noon, span.LatestTime); // no commit in the fake WAL: a time target reaches only the backup\'s end
        Assert.Equal(await ArchivedAsync(archive, "000000010000000000000005"), span.ArchivedUntil);
        Assert.Equal("000000010000000000000006", span.MissingSegment); // the next one, not archived yet
    }

    [Fact]
    public async Task A_gap_in_the_backups_own_WAL_makes_it_unrecoverable_and_names_the_missing_segment()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 2, 4, 5);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/4000100", Noon);

        var span = Assert.Single(await RecoveryWindow.ComputeAsync(archive, [backup], Ct));

        Assert.Equal("000000010000000000000003", span.MissingSegment);
        Assert.Null(span.LatestTime);
        Assert.Equal(Lsn.Zero, span.LatestLsn);
        Assert.Equal(Noon, span.EarliestTime);
    }

    [Fact]
    public async Task A_gap_after_the_backups_own_WAL_ends_the_window_before_the_gap()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 2, 3, 4, 6, 7);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/3000100", Noon);

        var span = Assert.Single(await RecoveryWindow.ComputeAsync(archive, [backup], Ct));

        Assert.Equal("000000010000000000000005", span.MissingSegment);
        Assert.Equal(Lsn.Parse("0/5000000"), span.LatestLsn);
        Assert.Equal(Noon, span.LatestTime); // no commit in the fake WAL: a time target reaches only the backup\'s end
        Assert.Equal(await ArchivedAsync(archive, "000000010000000000000004"), span.ArchivedUntil);
    }

    [Fact]
    public async Task A_backup_that_stops_on_a_segment_boundary_needs_only_the_segments_before_it()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 2, 3);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/4000000", Noon);

        var span = Assert.Single(await RecoveryWindow.ComputeAsync(archive, [backup], Ct));

        Assert.Equal(Lsn.Parse("0/4000000"), span.LatestLsn);
        Assert.NotNull(span.LatestTime);
        Assert.Equal("000000010000000000000004", span.MissingSegment);
    }

    [Fact]
    public async Task Without_archived_WAL_a_backup_is_not_recoverable_and_its_first_segment_is_missing()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/3000100", Noon);

        var span = Assert.Single(await RecoveryWindow.ComputeAsync(archive, [backup], Ct));

        Assert.Equal(1u, span.Timeline);
        Assert.Equal("000000010000000000000002", span.MissingSegment);
        Assert.Null(span.LatestTime);
    }

    [Fact]
    public async Task A_second_timeline_with_its_history_gives_a_span_on_each_timeline()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        // Timeline 1 ran to 0/5000098; promotion archived its last segment as .partial and timeline 2 went on in 5, 6.
        await PushSegmentsAsync(archive, 1, 2, 3, 4);
        await PushFileAsync(archive, "000000010000000000000005.partial", FakeWal.Segment(SystemId, 1, 5));
        await PushFileAsync(archive, "00000002.history", Encoding.ASCII.GetBytes("1\t0/5000098\tno recovery target specified\n"));
        await PushSegmentsAsync(archive, 2, 5, 6);
        var backup = Backup("20261122-120000-0000", 1, "0/2000028", "0/3000100", Noon);

        var spans = await RecoveryWindow.ComputeAsync(archive, [backup], Ct);

        Assert.Equal([1u, 2u], spans.Select(s => s.Timeline).ToArray());
        Assert.Equal(Lsn.Parse("0/5000000"), spans[0].LatestLsn);
        Assert.Equal("000000010000000000000005", spans[0].MissingSegment);
        Assert.Equal(Noon, spans[0].LatestTime); // no commit in the fake WAL: a time target reaches only the backup\'s end
        Assert.Equal(await ArchivedAsync(archive, "000000010000000000000004"), spans[0].ArchivedUntil);
        Assert.Equal(Lsn.Parse("0/7000000"), spans[1].LatestLsn);
        Assert.Equal("000000020000000000000007", spans[1].MissingSegment);
        Assert.Equal(Noon, spans[1].LatestTime); // no commit in the fake WAL: a time target reaches only the backup\'s end
        Assert.Equal(await ArchivedAsync(archive, "000000020000000000000006"), spans[1].ArchivedUntil);
        Assert.All(spans, s => Assert.Equal(Noon, s.EarliestTime));
    }

    [Fact]
    public async Task A_backup_taken_after_the_switch_point_on_the_parent_timeline_does_not_reach_the_child_timeline()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 6, 7);
        await PushFileAsync(archive, "00000002.history", Encoding.ASCII.GetBytes("1\t0/5000098\tno recovery target specified\n"));
        await PushSegmentsAsync(archive, 2, 5, 6);
        var backup = Backup("20261122-130000-0000", 1, "0/6000028", "0/6000100", Noon);

        var span = Assert.Single(await RecoveryWindow.ComputeAsync(archive, [backup], Ct));

        Assert.Equal(1u, span.Timeline);
        Assert.Equal(Lsn.Parse("0/8000000"), span.LatestLsn);
    }

    [Fact]
    public async Task Spans_are_combined_per_timeline_over_all_backups()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await PushSegmentsAsync(archive, 1, 2, 3, 4, 5);
        var older = Backup("20261122-110000-0000", 1, "0/2000028", "0/2000100", Noon.AddHours(-1));
        var newer = Backup("20261122-120000-0000", 1, "0/4000028", "0/4000100", Noon);

        var spans = await RecoveryWindow.ComputeAsync(archive, [newer, older], Ct);
        var window = Assert.Single(RecoveryWindow.ByTimeline(spans));

        Assert.Equal(1u, window.Timeline);
        Assert.Equal(Noon.AddHours(-1), window.Earliest);
        Assert.Equal(Lsn.Parse("0/6000000"), window.LatestLsn);
        Assert.Equal(Noon, window.Latest); // the newer backup's end: no commit after it in the fake WAL
        Assert.Equal(["20261122-110000-0000", "20261122-120000-0000"], window.Backups);
    }
}
