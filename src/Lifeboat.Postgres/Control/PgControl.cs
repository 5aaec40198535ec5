using System.Buffers.Binary;
using System.Numerics;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Control;

/// <summary>
/// What global/pg_control says about a cluster (ControlFileData, PostgreSQL 13–17; CRC-32C checked).
/// Offsets are those of the x86-64/arm64 layout (little-endian, 8-byte aligned 64-bit fields).
/// </summary>
public sealed record PgControl
{
    public const int ReadSize = 512;

    public required ulong SystemIdentifier { get; init; }

    public required uint ControlVersion { get; init; }

    public required uint CatalogVersion { get; init; }

    public required int State { get; init; }

    public required Lsn CheckpointLsn { get; init; }

    public required uint Timeline { get; init; }

    public required int BlockSize { get; init; }

    public required int SegmentBlocks { get; init; }

    public required int WalBlockSize { get; init; }

    public required long WalSegmentSize { get; init; }

    public required uint DataChecksumVersion { get; init; }

    public bool DataChecksums => DataChecksumVersion != 0;

    /// <summary>The major version implied by the catalog version (13–17), or 0 when unknown.</summary>
    public int MajorVersion => CatalogVersion switch
    {
        >= 202406281 and < 202500000 => 17,
        >= 202307071 and < 202406281 => 16,
        >= 202209061 and < 202307071 => 15,
        >= 202107181 and < 202209061 => 14,
        >= 202007201 and < 202107181 => 13,
        _ => 0,
    };

    public string StateText => State switch
    {
        0 => "starting up",
        1 => "shut down",
        2 => "shut down in recovery",
        3 => "shutting down",
        4 => "in crash recovery",
        5 => "in archive recovery",
        6 => "in production",
        _ => $"unknown ({State})",
    };

    public static PgControl Read(string pgdata)
    {
        var path = Path.Combine(pgdata, "global", "pg_control");
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            bytes = new byte[ReadSize];
            file.ReadAtLeast(bytes, ReadSize, throwOnEndOfStream: true);
        }
        catch (FileNotFoundException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{pgdata} is not a PostgreSQL data directory: {path} does not exist", "give the data directory (PGDATA) of the cluster, the one that holds PG_VERSION and global/");
        }
        catch (DirectoryNotFoundException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{pgdata} is not a PostgreSQL data directory: {path} does not exist", "give the data directory (PGDATA) of the cluster, the one that holds PG_VERSION and global/");
        }
        catch (UnauthorizedAccessException)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"cannot read {path}: permission denied", "run lifeboat as the PostgreSQL OS user (usually postgres) or as root");
        }
        catch (EndOfStreamException)
        {
            throw new LifeboatException(ErrorCode.Damage, $"{path} is shorter than {ReadSize} bytes", "the data directory is damaged");
        }

        return Parse(bytes, path);
    }

    public static PgControl Parse(ReadOnlySpan<byte> b, string where)
    {
        var controlVersion = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (controlVersion is not (1300 or 1700))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{where} has pg_control version {controlVersion}; Lifeboat supports PostgreSQL 13 to 17 (pg_control 1300 and 1700)", "use a supported PostgreSQL version");
        }

        var crcOffset = 288;
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(b[crcOffset..]);
        var computed = Crc32C(b[..crcOffset]);
        if (stored != computed)
        {
            throw new LifeboatException(ErrorCode.Damage, $"the checksum of {where} does not match (calculated 0x{computed:x8}, stored 0x{stored:x8})", "pg_control is damaged, or this PostgreSQL version lays it out differently");
        }

        return new PgControl
        {
            SystemIdentifier = BinaryPrimitives.ReadUInt64LittleEndian(b),
            ControlVersion = controlVersion,
            CatalogVersion = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]),
            State = BinaryPrimitives.ReadInt32LittleEndian(b[16..]),
            CheckpointLsn = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(b[32..])),
            Timeline = BinaryPrimitives.ReadUInt32LittleEndian(b[48..]),
            BlockSize = BinaryPrimitives.ReadInt32LittleEndian(b[216..]),
            SegmentBlocks = BinaryPrimitives.ReadInt32LittleEndian(b[220..]),
            WalBlockSize = BinaryPrimitives.ReadInt32LittleEndian(b[224..]),
            WalSegmentSize = BinaryPrimitives.ReadUInt32LittleEndian(b[228..]),
            DataChecksumVersion = BinaryPrimitives.ReadUInt32LittleEndian(b[252..]),
        };
    }

    /// <summary>CRC-32C (Castagnoli), as PostgreSQL computes it (hardware instructions where available).</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
        }

        for (; i < data.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, data[i]);
        }

        return ~crc;
    }
}
