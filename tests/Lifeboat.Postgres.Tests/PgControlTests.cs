using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Postgres.Tests;

public sealed class PgControlTests(InitdbCluster cluster) : IDisposable
{
    private readonly TempDir _dir = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    /// <summary>CRC-32C, bit by bit (reflected polynomial 0x82F63B78), as a check independent of the hardware instruction.</summary>
    private static uint ReferenceCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static async Task<Dictionary<string, string>> PgControlDataAsync(string pgdata)
    {
        // ProcessRunner runs it with LC_ALL=C, as the postgres OS user when the tests run as root.
        var result = await ProcessRunner.RunAsync(InitdbCluster.Tool("pg_controldata"), ["-D", pgdata], PostgresCluster.DefaultOsUser, null, TimeSpan.FromMinutes(1), Ct);
        Assert.True(result.Success, result.Error);
        return result.Output.Split('\n')
            .Select(line => Regex.Match(line, @"^(.+?):\s+(.*)$"))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);
    }

    /// <summary>A pg_control image (PG 13–16 layout) with a valid CRC.</summary>
    private static byte[] Synthetic(uint controlVersion = 1300, uint catalogVersion = 202209061)
    {
        var b = new byte[PgControl.ReadSize];
        BinaryPrimitives.WriteUInt64LittleEndian(b, 7_312_345_678_901_234_567);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), controlVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12), catalogVersion);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), 6);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), 0x1A_0500_0028);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(48), 3);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(216), 8192);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(220), 131072);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(224), 8192);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(228), 64 << 20);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(252), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(288), ReferenceCrc32C(b.AsSpan(0, 288)));
        return b;
    }

    [Fact]
    public void The_CRC_is_CRC_32C_Castagnoli()
    {
        Assert.Equal(0xE3069283u, PgControl.Crc32C("123456789"u8));
        Assert.Equal(0u, PgControl.Crc32C([]));
        var data = TestData.Random(1001, 5);
        Assert.Equal(ReferenceCrc32C(data), PgControl.Crc32C(data));
    }

    [Fact]
    public async Task A_pg_control_written_by_initdb_says_what_pg_controldata_says()
    {
        var pgdata = cluster.Require();

        var control = PgControl.Read(pgdata);
        var expected = await PgControlDataAsync(pgdata);

        Assert.Equal(expected["Database system identifier"], control.SystemIdentifier.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["pg_control version number"], control.ControlVersion.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Catalog version number"], control.CatalogVersion.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Database cluster state"], control.StateText);
        Assert.Equal(expected["Latest checkpoint location"], control.CheckpointLsn.ToString());
        Assert.Equal(expected["Latest checkpoint's TimeLineID"], control.Timeline.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Database block size"], control.BlockSize.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Blocks per segment of large relation"], control.SegmentBlocks.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["WAL block size"], control.WalBlockSize.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Bytes per WAL segment"], control.WalSegmentSize.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected["Data page checksum version"], control.DataChecksumVersion.ToString(CultureInfo.InvariantCulture));
    }

    [Fact]
    public void A_pg_control_written_by_initdb_has_checksums_8_KiB_blocks_16_MiB_segments_and_its_major_version()
    {
        var control = PgControl.Read(cluster.Require());

        Assert.Equal(1u, control.DataChecksumVersion);
        Assert.True(control.DataChecksums);
        Assert.Equal(8192, control.BlockSize);
        Assert.Equal(131072, control.SegmentBlocks);
        Assert.Equal(16L * 1024 * 1024, control.WalSegmentSize);
        Assert.Equal(1u, control.Timeline);
        Assert.Equal("shut down", control.StateText);
        Assert.Equal(cluster.MajorVersion, control.MajorVersion); // 15 with PostgreSQL 15's initdb
    }

    [Fact]
    public void A_flipped_byte_in_pg_control_fails_the_CRC_check_as_damage()
    {
        var bytes = File.ReadAllBytes(Path.Combine(cluster.Require(), "global", "pg_control"));
        bytes[0] ^= 0x01; // the system identifier
        var pgdata = _dir.Dir("pgdata");
        var path = Path.Combine(_dir.Dir("pgdata", "global"), "pg_control");
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<LifeboatException>(() => PgControl.Read(pgdata));

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(288));
        var calculated = ReferenceCrc32C(bytes.AsSpan(0, 288));
        Assert.Equal($"the checksum of {path} does not match (calculated 0x{calculated:x8}, stored 0x{stored:x8})", ex.Message);
        Assert.Equal("pg_control is damaged, or this PostgreSQL version lays it out differently", ex.Hint);
        Assert.Equal(ErrorCode.Damage, ex.Code);
        Assert.Equal(3, ex.ExitCode);
    }

    [Fact]
    public void A_missing_data_directory_is_bad_input_that_names_the_file_looked_for()
    {
        var pgdata = _dir.Combine("no-such-dir");

        var ex = Assert.Throws<LifeboatException>(() => PgControl.Read(pgdata));

        Assert.Equal($"{pgdata} is not a PostgreSQL data directory: {pgdata}/global/pg_control does not exist", ex.Message);
        Assert.Equal("give the data directory (PGDATA) of the cluster, the one that holds PG_VERSION and global/", ex.Hint);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void A_directory_without_pg_control_is_not_a_data_directory()
    {
        var ex = Assert.Throws<LifeboatException>(() => PgControl.Read(_dir.Path));

        Assert.Equal($"{_dir.Path} is not a PostgreSQL data directory: {_dir.Path}/global/pg_control does not exist", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void A_truncated_pg_control_is_damage()
    {
        var path = Path.Combine(_dir.Dir("global"), "pg_control");
        File.WriteAllBytes(path, Synthetic()[..300]);

        var ex = Assert.Throws<LifeboatException>(() => PgControl.Read(_dir.Path));

        Assert.Equal($"{path} is shorter than 512 bytes", ex.Message);
        Assert.Equal(3, ex.ExitCode);
    }

    [Fact]
    public void Every_field_is_read_from_its_offset_in_the_PostgreSQL_13_to_16_layout()
    {
        var control = PgControl.Parse(Synthetic(), "pg_control");

        Assert.Equal(7_312_345_678_901_234_567UL, control.SystemIdentifier);
        Assert.Equal(1300u, control.ControlVersion);
        Assert.Equal(202209061u, control.CatalogVersion);
        Assert.Equal(6, control.State);
        Assert.Equal("in production", control.StateText);
        Assert.Equal(Lsn.Parse("1A/5000028"), control.CheckpointLsn);
        Assert.Equal(3u, control.Timeline);
        Assert.Equal(8192, control.BlockSize);
        Assert.Equal(131072, control.SegmentBlocks);
        Assert.Equal(8192, control.WalBlockSize);
        Assert.Equal(64L << 20, control.WalSegmentSize);
        Assert.Equal(1u, control.DataChecksumVersion);
        Assert.Equal(15, control.MajorVersion);
    }

    [Theory]
    [InlineData(202007201u, 13)]
    [InlineData(202107181u, 14)]
    [InlineData(202209061u, 15)]
    [InlineData(202307071u, 16)]
    [InlineData(202406281u, 17)]
    [InlineData(201909212u, 0)]
    public void The_major_version_follows_from_the_catalog_version(uint catalogVersion, int major)
    {
        Assert.Equal(major, PgControl.Parse(Synthetic(catalogVersion: catalogVersion), "pg_control").MajorVersion);
    }

    [Fact]
    public void An_unsupported_pg_control_version_is_named()
    {
        var ex = Assert.Throws<LifeboatException>(() => PgControl.Parse(Synthetic(controlVersion: 1201), "/pg/global/pg_control"));

        Assert.Equal("/pg/global/pg_control has pg_control version 1201; Lifeboat supports PostgreSQL 13 to 17 (pg_control 1300 and 1700)", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }
}
