using System.Buffers.Binary;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Tests;

/// <summary>Synthetic WAL files: a segment is zeros after a valid long page header (XLogLongPageHeaderData).</summary>
internal static class FakeWal
{
    public const long SegmentSize = WalFileName.DefaultSegmentSize;
    public const ushort Pg15Magic = 0xD110;
    public const ushort LongHeader = 0x0002;

    /// <summary>A 40-byte long page header: magic, info, tli, pageaddr, rem_len, (padding), sysid, seg_size, xlog_blcksz.</summary>
    public static void WriteHeader(Span<byte> b, ulong systemIdentifier, uint timeline, ulong segmentNumber, long segmentSize = SegmentSize, ushort magic = Pg15Magic, ushort info = LongHeader)
    {
        b[..40].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(b, magic);
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], info);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], timeline);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], segmentNumber * (ulong)segmentSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], systemIdentifier);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], (uint)segmentSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[36..], 8192);
    }

    public static byte[] Segment(ulong systemIdentifier, uint timeline, ulong segmentNumber, long segmentSize = SegmentSize)
    {
        var b = new byte[segmentSize];
        WriteHeader(b, systemIdentifier, timeline, segmentNumber, segmentSize);
        return b;
    }

    /// <summary>Writes a segment named after its timeline and number into <paramref name="directory"/>; returns its path.</summary>
    public static string WriteSegment(string directory, ulong systemIdentifier, uint timeline, ulong segmentNumber)
    {
        var path = Path.Combine(directory, WalFileName.SegmentName(timeline, segmentNumber, SegmentSize));
        File.WriteAllBytes(path, Segment(systemIdentifier, timeline, segmentNumber));
        return path;
    }

    public static string WriteFile(string directory, string name, byte[] content)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
