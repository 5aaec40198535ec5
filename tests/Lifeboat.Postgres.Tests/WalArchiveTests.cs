using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Postgres.Tests;

public sealed class WalArchiveTests(InitdbCluster cluster) : IDisposable
{
    private const ulong SystemId = 7_312_345_678_901_234_567;
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    private static string Sysid(ulong id) => id.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_real_segment_is_pushed_and_fetched_back_byte_identical()
    {
        var pgdata = cluster.Require();
        var systemId = PgControl.Read(pgdata).SystemIdentifier;
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", systemId);

        Assert.Equal(PushOutcome.Stored, await archive.PushAsync(cluster.FirstSegment, Ct));
        var fetched = _dir.Combine("RECOVERYXLOG");
        Assert.True(await archive.FetchAsync("000000010000000000000001", fetched, Ct));

        Assert.Equal(TestData.Sha256(File.ReadAllBytes(cluster.FirstSegment)), TestData.Sha256(File.ReadAllBytes(fetched)));
        // The segment, and next to it its summary (where a recovery can stop).
        Assert.Equal([$"wal/db/{Sysid(systemId)}/0000000100000000/000000010000000000000001", $"wal/db/{Sysid(systemId)}/0000000100000000/000000010000000000000001.xact"], t.Objects("wal/"));
        Assert.Equal(WalRecords.Summarize(File.ReadAllBytes(cluster.FirstSegment), "first"), await archive.SummaryAsync((await archive.ListAsync(Ct)).Single(), Ct));
        Assert.False(File.Exists(fetched + ".lifeboat-tmp"));
        Assert.True(await archive.ExistsAsync("000000010000000000000001", Ct));
    }

    [Fact]
    public async Task Pushing_the_same_real_segment_twice_succeeds_as_already_archived()
    {
        var pgdata = cluster.Require();
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", PgControl.Read(pgdata).SystemIdentifier);

        Assert.Equal(PushOutcome.Stored, await archive.PushAsync(cluster.FirstSegment, Ct));
        Assert.Equal(PushOutcome.AlreadyArchived, await archive.PushAsync(cluster.FirstSegment, Ct));

        Assert.Equal(2, t.Objects("wal/").Count()); // the segment and its summary
    }

    [Fact]
    public async Task Pushing_other_content_under_an_archived_name_fails_and_keeps_the_archived_copy()
    {
        var pgdata = cluster.Require();
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", PgControl.Read(pgdata).SystemIdentifier);
        var original = File.ReadAllBytes(cluster.FirstSegment);
        await archive.PushAsync(cluster.FirstSegment, Ct);
        var other = (byte[])original.Clone();
        other[100_000] ^= 0xFF;
        var otherPath = FakeWal.WriteFile(_dir.Dir("other"), "000000010000000000000001", other);

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(otherPath, Ct));

        Assert.Equal($"WAL file 000000010000000000000001 is already archived in {t.Url} with different content; the archived copy was kept", ex.Message);
        Assert.Equal("two clusters may be archiving into the same source, or this cluster was restored without a new timeline; check archive_command and the server log", ex.Hint);
        Assert.Equal(ErrorCode.Refused, ex.Code);
        var fetched = _dir.Combine("fetched");
        Assert.True(await archive.FetchAsync("000000010000000000000001", fetched, Ct));
        Assert.Equal(TestData.Sha256(original), TestData.Sha256(File.ReadAllBytes(fetched)));
    }

    [Fact]
    public async Task A_segment_of_another_cluster_is_refused_and_not_stored()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = FakeWal.WriteSegment(_dir.Path, SystemId + 1, 1, 1);

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(path, Ct));

        Assert.Equal($"WAL file 000000010000000000000001 belongs to the cluster with system identifier {SystemId + 1}, but source 'db' is the cluster {SystemId}; it was not archived", ex.Message);
        Assert.Equal(ErrorCode.Refused, ex.Code);
        Assert.Empty(t.Objects("wal/"));
    }

    [Fact]
    public async Task A_partial_segment_of_another_cluster_is_refused_too()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = FakeWal.WriteFile(_dir.Path, "000000010000000000000005.partial", FakeWal.Segment(SystemId + 1, 1, 5));

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(path, Ct));

        Assert.StartsWith("WAL file 000000010000000000000005.partial belongs to the cluster with system identifier ", ex.Message, StringComparison.Ordinal);
        Assert.Empty(t.Objects("wal/"));
    }

    [Fact]
    public async Task A_segment_that_is_not_complete_is_refused()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = FakeWal.WriteFile(_dir.Path, "000000010000000000000001", FakeWal.Segment(SystemId, 1, 1)[..(1 << 20)]);

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(path, Ct));

        Assert.Equal("WAL file 000000010000000000000001 has 1048576 bytes; a segment of this cluster has 16777216", ex.Message);
        Assert.Empty(t.Objects("wal/"));
    }

    [Fact]
    public async Task A_file_whose_name_is_not_a_WAL_file_name_is_refused()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = FakeWal.WriteFile(_dir.Path, "postgresql.conf", [1, 2, 3]);

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(path, Ct));

        Assert.Equal("'postgresql.conf' is not the name of a WAL file (a segment, .partial, .backup or .history file)", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public async Task A_missing_file_is_named()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = _dir.Combine("000000010000000000000009");

        var ex = await Assert.ThrowsAsync<LifeboatException>(() => archive.PushAsync(path, Ct));

        Assert.Equal($"the WAL file {path} does not exist", ex.Message);
    }

    [Fact]
    public async Task A_timeline_history_file_is_stored_directly_under_the_cluster_and_fetched_back()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var content = Encoding.ASCII.GetBytes("1\t0/5000098\tno recovery target specified\n");
        var path = FakeWal.WriteFile(_dir.Path, "00000002.history", content);

        Assert.Equal(PushOutcome.Stored, await archive.PushAsync(path, Ct));
        var fetched = _dir.Combine("RECOVERYHISTORY");
        Assert.True(await archive.FetchAsync("00000002.history", fetched, Ct));

        Assert.Equal([$"wal/db/{SystemId}/00000002.history"], t.Objects("wal/"));
        Assert.Equal(content, File.ReadAllBytes(fetched));
    }

    [Fact]
    public async Task A_backup_history_file_is_stored_beside_its_segment()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var path = FakeWal.WriteFile(_dir.Path, "000000010000000000000003.00000028.backup", Encoding.ASCII.GetBytes("START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\n"));

        Assert.Equal(PushOutcome.Stored, await archive.PushAsync(path, Ct));

        Assert.Equal([$"wal/db/{SystemId}/0000000100000000/000000010000000000000003.00000028.backup"], t.Objects("wal/"));
    }

    [Fact]
    public async Task Fetching_a_file_that_is_not_archived_returns_false_and_writes_nothing()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var destination = _dir.Combine("RECOVERYXLOG");

        Assert.False(await archive.FetchAsync("000000010000000000000001", destination, Ct));
        Assert.False(await archive.FetchAsync("00000002.history", destination, Ct));

        Assert.False(File.Exists(destination));
        Assert.False(await archive.ExistsAsync("000000010000000000000001", Ct));
    }

    [Fact]
    public async Task The_list_holds_every_archived_file_sorted_by_name_and_nothing_else()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        var other = new WalArchive(repo, "db", SystemId + 1);
        await other.PushAsync(FakeWal.WriteSegment(_dir.Dir("other"), SystemId + 1, 1, 1), Ct);
        string[] pushed =
        [
            FakeWal.WriteSegment(_dir.Path, SystemId, 2, 3),
            FakeWal.WriteFile(_dir.Path, "00000002.history", Encoding.ASCII.GetBytes("1\t0/2000000\tx\n")),
            FakeWal.WriteSegment(_dir.Path, SystemId, 1, 256),
            FakeWal.WriteFile(_dir.Path, "000000010000000000000001.00000028.backup", [1]),
            FakeWal.WriteSegment(_dir.Path, SystemId, 1, 2),
            FakeWal.WriteSegment(_dir.Path, SystemId, 1, 1),
        ];
        foreach (var path in pushed)
        {
            await archive.PushAsync(path, Ct);
        }

        File.WriteAllBytes(t.PathOf($"wal/db/{SystemId}/0000000100000000/not-a-wal-file"), [1]);

        var list = await archive.ListAsync(Ct);

        Assert.Equal(
            [
                "000000010000000000000001",
                "000000010000000000000001.00000028.backup",
                "000000010000000000000002",
                "000000010000000100000000",
                "00000002.history",
                "000000020000000000000003",
            ],
            list.Select(w => w.Wal.Name).ToArray());
        Assert.Equal($"wal/db/{SystemId}/0000000100000001/000000010000000100000000", list[3].ObjectName);
        Assert.Equal(256UL, list[3].Wal.SegmentNumber);
        Assert.All(list, w => Assert.True(w.StoredSize > 0));
        Assert.All(list, w => Assert.NotNull(w.Archived));
    }

    [Fact]
    public async Task A_damaged_archived_file_is_reported_as_damage_naming_the_object()
    {
        using var t = new TestRepository();
        await using var repo = await t.InitAsync();
        var archive = new WalArchive(repo, "db", SystemId);
        await archive.PushAsync(FakeWal.WriteFile(_dir.Path, "00000002.history", Encoding.ASCII.GetBytes("1\t0/2000000\tx\n")), Ct);
        var objectPath = t.PathOf($"wal/db/{SystemId}/00000002.history");
        var bytes = File.ReadAllBytes(objectPath);
        bytes[^1] ^= 1;
        File.WriteAllBytes(objectPath, bytes);

        var ex = await Assert.ThrowsAsync<DamageException>(() => archive.FetchAsync("00000002.history", _dir.Combine("h"), Ct));

        Assert.StartsWith($"archived WAL file 00000002.history (wal/db/{SystemId}/00000002.history) is damaged: ", ex.Message, StringComparison.Ordinal);
        Assert.Equal([$"wal/db/{SystemId}/00000002.history"], ex.DamagedObjects);
        Assert.Equal(3, ex.ExitCode);
    }
}
