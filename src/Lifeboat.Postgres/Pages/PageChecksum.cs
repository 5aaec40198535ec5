using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Lifeboat.Postgres.Pages;

/// <summary>
/// PostgreSQL's data page checksum (src/include/storage/checksum_impl.h): 32 parallel FNV-1a-like sums over the page
/// as 32-bit words, pd_checksum counted as zero, the block number mixed in, reduced to (sum % 65535) + 1.
/// The 32 sums are computed as four 8-lane vectors.
/// </summary>
public static class PageChecksum
{
    private const uint FnvPrime = 16777619;

    private static readonly uint[] BaseOffsets =
    [
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A,
        0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA,
        0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE,
        0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E,
        0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
    ];

    /// <summary>The checksum PostgreSQL stores in pd_checksum for this page at this block number.</summary>
    public static ushort Compute(ReadOnlySpan<byte> page, uint blockNumber)
    {
        if (page.Length % 128 != 0 || page.Length < 128)
        {
            throw new ArgumentException("a page is a multiple of 128 bytes", nameof(page));
        }

        var words = MemoryMarshal.Cast<byte, uint>(page);
        var offsets = MemoryMarshal.Cast<uint, Vector256<uint>>(BaseOffsets.AsSpan());
        var s0 = offsets[0];
        var s1 = offsets[1];
        var s2 = offsets[2];
        var s3 = offsets[3];
        var prime = Vector256.Create(FnvPrime);
        var rows = words.Length / 32;
        for (var row = 0; row < rows; row++)
        {
            var r = MemoryMarshal.Cast<uint, Vector256<uint>>(words.Slice(row * 32, 32));
            var v0 = r[0];
            if (row == 0)
            {
                // pd_checksum (bytes 8-9) counts as zero: it is the low half of word 2 (little-endian).
                v0 = v0.WithElement(2, v0.GetElement(2) & 0xFFFF0000u);
            }

            s0 = Comp(s0, v0, prime);
            s1 = Comp(s1, r[1], prime);
            s2 = Comp(s2, r[2], prime);
            s3 = Comp(s3, r[3], prime);
        }

        for (var i = 0; i < 2; i++)
        {
            s0 = Comp(s0, Vector256<uint>.Zero, prime);
            s1 = Comp(s1, Vector256<uint>.Zero, prime);
            s2 = Comp(s2, Vector256<uint>.Zero, prime);
            s3 = Comp(s3, Vector256<uint>.Zero, prime);
        }

        var x = s0 ^ s1 ^ s2 ^ s3;
        uint result = 0;
        for (var i = 0; i < Vector256<uint>.Count; i++)
        {
            result ^= x.GetElement(i);
        }

        result ^= blockNumber;
        return (ushort)((result % 65535) + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Comp(Vector256<uint> sum, Vector256<uint> value, Vector256<uint> prime)
    {
        var tmp = sum ^ value;
        return (tmp * prime) ^ Vector256.ShiftRightLogical(tmp, 17);
    }

    /// <summary>The page's LSN (pd_lsn: high 32 bits, then low 32 bits).</summary>
    public static ulong PageLsn(ReadOnlySpan<byte> page)
        => ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(page) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(page[4..]);

    public static ushort StoredChecksum(ReadOnlySpan<byte> page) => BinaryPrimitives.ReadUInt16LittleEndian(page[8..]);

    /// <summary>A new page: every byte zero (PostgreSQL's PageIsVerified accepts only that when pd_upper is 0).</summary>
    public static bool IsAllZero(ReadOnlySpan<byte> page) => page.IndexOfAnyExcept((byte)0) < 0;
}
