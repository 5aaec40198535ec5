using System.Buffers.Binary;
using Lifeboat.Core;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Postgres.Tests;

public sealed class WalHeaderTests(InitdbCluster cluster)
{
    private static readonly Dictionary<int, ushort> MagicOfVersion = new() { [13] = 0xD106, [14] = 0xD10D, [15] = 0xD110, [16] = 0xD113, [17] = 0xD116 };

    [Fact]
    public void The_first_segment_written_by_initdb_has_a_long_header_naming_the_cluster()
    {
        var pgdata = cluster.Require();
        var control = PgControl.Read(pgdata);
        var bytes = File.ReadAllBytes(cluster.FirstSegment);

        var header = WalHeader.Parse(bytes, "000000010000000000000001");

        Assert.Equal(cluster.MajorVersion, header.MajorVersion);
        Assert.Equal(MagicOfVersion[cluster.MajorVersion], header.Magic); // 0xD110 with PostgreSQL 15
        Assert.Equal(control.SystemIdentifier, header.SystemIdentifier);
        Assert.Equal(16u * 1024 * 1024, header.SegmentSize);
        Assert.Equal(16L * 1024 * 1024, bytes.Length);
        Assert.Equal(8192u, header.BlockSize);
        Assert.Equal(1u, header.Timeline);
        Assert.Equal(16UL * 1024 * 1024, header.PageAddress); // segment 1 starts at 0/1000000
    }

    [Fact]
    public void Every_header_field_is_read_from_its_offset()
    {
        var b = new byte[WalHeader.Size];
        FakeWal.WriteHeader(b, 7_000_000_000_000_000_001, 3, 0x1A05, 1L << 30, magic: 0xD113);

        var header = WalHeader.Parse(b, "x");

        Assert.Equal(new WalHeader(0xD113, 16, 3, 0x1A05UL << 30, 7_000_000_000_000_000_001, 1u << 30, 8192), header);
    }

    [Theory]
    [InlineData((ushort)0xD106, 13)]
    [InlineData((ushort)0xD10D, 14)]
    [InlineData((ushort)0xD110, 15)]
    [InlineData((ushort)0xD113, 16)]
    [InlineData((ushort)0xD116, 17)]
    [InlineData((ushort)0xD101, 0)]
    [InlineData((ushort)0xD114, 0)]
    public void The_major_version_follows_from_the_magic(ushort magic, int version)
    {
        Assert.Equal(version, WalHeader.VersionOfMagic(magic));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(39)]
    public void A_file_shorter_than_a_long_header_is_not_a_segment(int length)
    {
        var ex = Assert.Throws<LifeboatException>(() => WalHeader.Parse(new byte[length], "WAL file 000000010000000000000001"));

        Assert.Equal($"WAL file 000000010000000000000001 is too short to be a WAL segment ({length} bytes)", ex.Message);
        Assert.Equal("archive_command must pass %p, the path of a complete WAL segment", ex.Hint);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void A_file_without_the_long_header_flag_is_not_a_segment()
    {
        var b = new byte[WalHeader.Size];
        FakeWal.WriteHeader(b, 1, 1, 1, info: 0x0001);

        var ex = Assert.Throws<LifeboatException>(() => WalHeader.Parse(b, "WAL file 000000010000000000000001"));

        Assert.Equal("WAL file 000000010000000000000001 does not start with a long WAL page header: it is not a WAL segment", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void An_unknown_magic_is_named_in_hex()
    {
        var b = new byte[WalHeader.Size];
        FakeWal.WriteHeader(b, 1, 1, 1, magic: 0xD101);

        var ex = Assert.Throws<LifeboatException>(() => WalHeader.Parse(b, "WAL file 000000010000000000000001"));

        Assert.Equal("WAL file 000000010000000000000001 has WAL page magic 0xD101, which no supported PostgreSQL version (13-17) writes", ex.Message);
        Assert.Equal("is this version of PostgreSQL supported?", ex.Hint);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u << 19)]
    [InlineData((1u << 24) + 8192)]
    [InlineData(1u << 31)]
    public void A_segment_size_PostgreSQL_never_uses_is_refused(uint segmentSize)
    {
        var b = new byte[WalHeader.Size];
        FakeWal.WriteHeader(b, 1, 1, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(32), segmentSize);

        var ex = Assert.Throws<LifeboatException>(() => WalHeader.Parse(b, "WAL file 000000010000000000000001"));

        Assert.Equal($"WAL file 000000010000000000000001 claims a WAL segment size of {segmentSize} bytes, which PostgreSQL never uses", ex.Message);
    }

    [Theory]
    [InlineData(1L << 20)]
    [InlineData(1L << 30)]
    public void The_smallest_and_largest_segment_sizes_are_accepted(long segmentSize)
    {
        var b = new byte[WalHeader.Size];
        FakeWal.WriteHeader(b, 1, 1, 1, segmentSize);

        Assert.Equal((uint)segmentSize, WalHeader.Parse(b, "x").SegmentSize);
    }
}
