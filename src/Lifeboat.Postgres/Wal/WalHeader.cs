using System.Buffers.Binary;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Wal;

/// <summary>The long page header at the start of every WAL segment (XLogLongPageHeaderData).</summary>
public sealed record WalHeader(ushort Magic, int MajorVersion, uint Timeline, ulong PageAddress, ulong SystemIdentifier, uint SegmentSize, uint BlockSize)
{
    public const int Size = 40;
    private const ushort LongHeaderFlag = 0x0002;

    /// <summary>XLOG_PAGE_MAGIC per major version.</summary>
    public static int VersionOfMagic(ushort magic) => magic switch
    {
        0xD106 => 13,
        0xD10D => 14,
        0xD110 => 15,
        0xD113 => 16,
        0xD116 => 17,
        _ => 0,
    };

    /// <summary>Reads the header of a WAL segment; throws a clear error when it is not one.</summary>
    public static WalHeader Parse(ReadOnlySpan<byte> b, string what)
    {
        if (b.Length < Size)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} is too short to be a WAL segment ({b.Length} bytes)", "archive_command must pass %p, the path of a complete WAL segment");
        }

        var magic = BinaryPrimitives.ReadUInt16LittleEndian(b);
        var info = BinaryPrimitives.ReadUInt16LittleEndian(b[2..]);
        if ((info & LongHeaderFlag) == 0)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} does not start with a long WAL page header: it is not a WAL segment", "archive_command must pass %p, the path of a WAL segment");
        }

        var version = VersionOfMagic(magic);
        if (version == 0)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} has WAL page magic 0x{magic:X4}, which no supported PostgreSQL version (13-17) writes", "is this version of PostgreSQL supported?");
        }

        var segmentSize = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]);
        if (segmentSize < (1 << 20) || segmentSize > (1 << 30) || (segmentSize & (segmentSize - 1)) != 0)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} claims a WAL segment size of {segmentSize} bytes, which PostgreSQL never uses", "the file is damaged or not a WAL segment");
        }

        return new WalHeader(
            magic,
            version,
            BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
            segmentSize,
            BinaryPrimitives.ReadUInt32LittleEndian(b[36..]));
    }
}
