namespace Lifeboat.Core.Tests;

public sealed class WalFileNameTests
{
    private const long SixteenMiB = WalFileName.DefaultSegmentSize;
    private const long OneGiB = 1L << 30;

    private static WalFileName Parse(string name, long segmentSize = SixteenMiB)
    {
        Assert.True(WalFileName.TryParse(name, segmentSize, out var wal), $"{name} should be a WAL file name");
        return wal!;
    }

    [Fact]
    public void The_default_segment_size_is_16_MiB()
    {
        Assert.Equal(16777216L, WalFileName.DefaultSegmentSize);
    }

    [Fact]
    public void A_segment_name_gives_its_timeline_and_segment_number()
    {
        var wal = Parse("000000010000000000000001");

        Assert.Equal(new WalFileName("000000010000000000000001", WalFileKind.Segment, 1, 1), wal);
        Assert.True(wal.IsSegmentLike);
        Assert.Equal("000000010000000000000001", wal.SegmentPart);
    }

    [Fact]
    public void The_log_part_of_a_segment_name_counts_segments_per_log_for_16_MiB_segments()
    {
        var wal = Parse("0000000A0000001F000000FF");

        Assert.Equal(WalFileKind.Segment, wal.Kind);
        Assert.Equal(10u, wal.Timeline);
        Assert.Equal((0x1FUL * 256) + 0xFF, wal.SegmentNumber);
    }

    [Fact]
    public void The_log_part_of_a_segment_name_counts_4_segments_per_log_for_1_GiB_segments()
    {
        var wal = Parse("000000020000000100000003", OneGiB);

        Assert.Equal(2u, wal.Timeline);
        Assert.Equal(7UL, wal.SegmentNumber);
    }

    [Fact]
    public void A_partial_segment_is_segment_like_and_keeps_its_segment_number()
    {
        var wal = Parse("000000010000000000000005.partial");

        Assert.Equal(WalFileKind.Partial, wal.Kind);
        Assert.Equal(1u, wal.Timeline);
        Assert.Equal(5UL, wal.SegmentNumber);
        Assert.True(wal.IsSegmentLike);
        Assert.Equal("000000010000000000000005", wal.SegmentPart);
    }

    [Fact]
    public void A_backup_history_file_names_the_segment_it_started_in()
    {
        var wal = Parse("000000010000000000000003.00000028.backup");

        Assert.Equal(WalFileKind.Backup, wal.Kind);
        Assert.Equal(1u, wal.Timeline);
        Assert.Equal(3UL, wal.SegmentNumber);
        Assert.False(wal.IsSegmentLike);
        Assert.Equal("000000010000000000000003", wal.SegmentPart);
    }

    [Fact]
    public void A_timeline_history_file_names_only_its_timeline()
    {
        var wal = Parse("0000000C.history");

        Assert.Equal(new WalFileName("0000000C.history", WalFileKind.History, 12, 0), wal);
        Assert.False(wal.IsSegmentLike);
        Assert.Equal("0000000C.history", wal.SegmentPart);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00000001000000000000001")]
    [InlineData("0000000100000000000000011")]
    [InlineData("00000001000000000000000a")]
    [InlineData("00000001000000000000000G")]
    [InlineData("000000010000000000000001.gz")]
    [InlineData("000000010000000000000001.PARTIAL")]
    [InlineData("000000010000000000000001.backup")]
    [InlineData("000000010000000000000001.0000028.backup")]
    [InlineData("00000001.History")]
    [InlineData("0000001.history")]
    [InlineData("RECOVERYHISTORY")]
    [InlineData("RECOVERYXLOG")]
    [InlineData("pg_wal/000000010000000000000001")]
    [InlineData("000000010000000000000001\n")]
    public void Names_PostgreSQL_does_not_archive_are_rejected(string name)
    {
        Assert.False(WalFileName.TryParse(name, SixteenMiB, out var wal));
        Assert.Null(wal);
    }

    [Fact]
    public void Null_is_not_a_WAL_file_name()
    {
        Assert.False(WalFileName.TryParse(null, SixteenMiB, out _));
    }

    [Theory]
    [InlineData("000000010000000000000100", SixteenMiB)]
    [InlineData("0000000100000000FFFFFFFF", SixteenMiB)]
    [InlineData("000000010000000000000100.partial", SixteenMiB)]
    [InlineData("000000010000000000000004", OneGiB)]
    [InlineData("000000010000000000000004.00000028.backup", OneGiB)]
    public void A_segment_number_at_or_past_the_segments_per_log_is_rejected(string name, long segmentSize)
    {
        Assert.False(WalFileName.TryParse(name, segmentSize, out _));
    }

    [Fact]
    public void The_last_segment_of_a_log_is_accepted()
    {
        Assert.Equal(255UL, Parse("0000000100000000000000FF").SegmentNumber);
        Assert.Equal(3UL, Parse("000000010000000000000003", OneGiB).SegmentNumber);
    }

    [Theory]
    [InlineData(1u, 0UL, SixteenMiB, "000000010000000000000000")]
    [InlineData(1u, 1UL, SixteenMiB, "000000010000000000000001")]
    [InlineData(1u, 255UL, SixteenMiB, "0000000100000000000000FF")]
    [InlineData(1u, 256UL, SixteenMiB, "000000010000000100000000")]
    [InlineData(0x2Au, 266UL, SixteenMiB, "0000002A000000010000000A")]
    [InlineData(1u, 3UL, OneGiB, "000000010000000000000003")]
    [InlineData(1u, 4UL, OneGiB, "000000010000000100000000")]
    [InlineData(3u, 7UL, OneGiB, "000000030000000100000003")]
    public void A_segment_name_is_timeline_log_and_segment_in_eight_hex_digits_each(uint timeline, ulong segment, long segmentSize, string expected)
    {
        Assert.Equal(expected, WalFileName.SegmentName(timeline, segment, segmentSize));
    }

    [Theory]
    [InlineData(1u, 0UL, SixteenMiB)]
    [InlineData(7u, 12345UL, SixteenMiB)]
    [InlineData(7u, 12345UL, OneGiB)]
    [InlineData(2u, 1UL << 20, 1L << 20)]
    public void A_segment_name_parses_back_to_its_timeline_and_segment_number(uint timeline, ulong segment, long segmentSize)
    {
        var wal = Parse(WalFileName.SegmentName(timeline, segment, segmentSize), segmentSize);

        Assert.Equal(timeline, wal.Timeline);
        Assert.Equal(segment, wal.SegmentNumber);
    }

    [Theory]
    [InlineData("0/16B3748", SixteenMiB, "000000010000000000000001")]
    [InlineData("0/1000000", SixteenMiB, "000000010000000000000001")]
    [InlineData("0/FFFFFF", SixteenMiB, "000000010000000000000000")]
    [InlineData("1A/5000028", SixteenMiB, "000000010000001A00000005")]
    [InlineData("0/16B3748", OneGiB, "000000010000000000000000")]
    [InlineData("1/40000000", OneGiB, "000000010000000100000001")]
    [InlineData("1/FFFFFFFF", OneGiB, "000000010000000100000003")]
    public void The_segment_of_an_LSN_is_named_like_pg_walfile_name_names_it(string lsn, long segmentSize, string expected)
    {
        Assert.Equal(expected, WalFileName.SegmentOf(1, Lsn.Parse(lsn), segmentSize));
    }
}
