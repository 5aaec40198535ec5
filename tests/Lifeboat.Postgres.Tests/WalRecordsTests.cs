using Lifeboat.Core;
using Lifeboat.Postgres.Tools;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Postgres.Tests;

/// <summary>One WAL segment written by a real PostgreSQL server, with what PostgreSQL says about its last commit.</summary>
public sealed class RealWalSegment : IAsyncLifetime
{
    private readonly TempDir _dir = new("lifeboat-walrec-");

    public byte[] Segment { get; private set; } = [];

    public DateTimeOffset FirstCommit { get; private set; }

    public DateTimeOffset LastCommit { get; private set; }

    public DateTimeOffset PointBefore { get; private set; }

    public DateTimeOffset PointAfter { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (!PgBinaries.Process.HasServer)
        {
            return;
        }

        var ct = CancellationToken.None;
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        await using var server = await PostgresCluster.InitAsync(_dir.Combine("pgdata"), PgBinaries.Process.NewestServer, ct);
        server.Configure(new Dictionary<string, string> { ["track_commit_timestamp"] = "on", ["wal_keep_size"] = "256MB" });
        await server.StartAsync(ct);
        var segment = await server.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())", ct);
        await server.ExecuteAsync("create table t (id int, pad text)", ct);
        await server.ExecuteAsync("insert into t values (0, 'first')", ct);
        FirstCommit = At(await server.QueryAsync<DateTime>("select pg_xact_commit_timestamp(xmin) from t where id = 0", ct));
        // Records larger than a page, and many small ones, so that records cross page boundaries.
        await server.ExecuteAsync("insert into t select g, repeat(md5(g::text), 300) from generate_series(1, 200) g", ct);
        for (var i = 0; i < 20; i++)
        {
            await server.ExecuteAsync($"insert into t values ({1000 + i}, 'x')", ct);
        }

        await server.ExecuteAsync("begin; insert into t values (-1, 'rolled back'); rollback", ct);
        await server.ExecuteAsync("insert into t values (9999, 'last')", ct);
        LastCommit = At(await server.QueryAsync<DateTime>("select pg_xact_commit_timestamp(xmin) from t where id = 9999", ct));
        PointBefore = At(await server.QueryAsync<DateTime>("select clock_timestamp()", ct));
        await server.ExecuteAsync("select pg_create_restore_point('p')", ct);
        PointAfter = At(await server.QueryAsync<DateTime>("select clock_timestamp()", ct));
        Assert.Equal(segment, await server.QueryAsync<string>("select pg_walfile_name(pg_current_wal_lsn())", ct));
        await server.ExecuteAsync("select pg_switch_wal()", ct);
        Segment = await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, "pg_wal", segment), ct);
        await server.StopAsync(ct);
    }

    public ValueTask DisposeAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    private static DateTimeOffset At(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc), TimeSpan.Zero);
}

/// <summary>
/// The WAL record reader against WAL written by a real PostgreSQL server: the last commit time it finds is the one
/// PostgreSQL recorded (track_commit_timestamp), restore points are found, and damage ends the reading early.
/// </summary>
public sealed class WalRecordsTests(RealWalSegment wal) : IClassFixture<RealWalSegment>
{
    [Fact]
    public void The_last_commit_time_is_the_one_PostgreSQL_recorded_and_the_restore_point_is_found()
    {
        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 server programs");
        var summary = WalRecords.Summarize(wal.Segment, "segment");

        Assert.True(summary.Records > 200, $"{summary.Records} records read");
        Assert.Equal(wal.LastCommit, summary.LastXactTime);
        Assert.NotNull(summary.LastXactLsn);
        Assert.NotNull(summary.LastRestorePointTime);
        Assert.InRange(summary.LastRestorePointTime!.Value, wal.PointBefore, wal.PointAfter);
    }

    [Fact]
    public void A_damaged_record_ends_the_reading_and_the_later_commits_are_not_counted()
    {
        Peers.Require(PgBinaries.Process.HasServer, "PostgreSQL 15 server programs");
        var summary = WalRecords.Summarize(wal.Segment, "segment");
        var damaged = (byte[])wal.Segment.Clone();
        var at = (int)(summary.LastXactLsn!.Value.Value % (ulong)wal.Segment.Length) + 30;
        damaged[at] ^= 0xFF;

        var read = WalRecords.Summarize(damaged, "segment");

        Assert.True(read.Records < summary.Records);
        Assert.NotNull(read.LastXactTime);
        Assert.InRange(read.LastXactTime!.Value, wal.FirstCommit, wal.LastCommit.AddTicks(-1));
    }

    [Fact]
    public void A_summary_is_written_and_read_back_exactly_and_junk_is_not_a_summary()
    {
        var summary = new WalSegmentSummary(new DateTimeOffset(2026, 12, 4, 6, 1, 2, TimeSpan.Zero).AddTicks(1230), new Lsn(0x1_0000_0028), null, 17);

        Assert.Equal(summary, WalSummaryText.TryRead(WalSummaryText.Write(summary)));
        Assert.Null(WalSummaryText.TryRead("not a summary\n"u8.ToArray()));
    }
}
