using System.Buffers.Binary;
using Lifeboat.Postgres.Pages;

namespace Lifeboat.Postgres.Tests;

public sealed class PageChecksumTests
{
    [Fact]
    public void A_page_of_0xFF_bytes_has_pgBackRest_test_vector_checksums_for_blocks_0_and_999()
    {
        var page = new byte[8192];
        page.AsSpan().Fill(0xFF);

        Assert.Equal(0x0E1C, PageChecksum.Compute(page, 0));
        Assert.Equal(0x0EC3, PageChecksum.Compute(page, 999));
    }

    [Fact]
    public void The_reference_implementation_reproduces_the_test_vectors()
    {
        var page = new byte[8192];
        page.AsSpan().Fill(0xFF);

        Assert.Equal(0x0E1C, ReferenceChecksum(page, 0));
        Assert.Equal(0x0EC3, ReferenceChecksum(page, 999));
    }

    [Fact]
    public void The_pd_checksum_bytes_do_not_change_the_checksum()
    {
        var page = TestData.Random(8192, 11);
        var expected = PageChecksum.Compute(page, 7);

        foreach (var (lo, hi) in new[] { (0x00, 0x00), (0xFF, 0xFF), (0x12, 0x34), (0x00, 0x80) })
        {
            page[8] = (byte)lo;
            page[9] = (byte)hi;
            Assert.Equal(expected, PageChecksum.Compute(page, 7));
        }
    }

    [Fact]
    public void Bytes_next_to_pd_checksum_do_change_the_checksum()
    {
        var page = TestData.Random(8192, 12);
        var before = PageChecksum.Compute(page, 7);

        page[10] ^= 1; // pd_flags, in the same 32-bit word as pd_checksum

        Assert.NotEqual(before, PageChecksum.Compute(page, 7));
    }

    [Fact]
    public void The_block_number_is_mixed_in_so_a_transposed_page_fails()
    {
        var page = TestData.Random(8192, 13);

        Assert.NotEqual(PageChecksum.Compute(page, 1), PageChecksum.Compute(page, 2));
    }

    [Fact]
    public void The_vector_implementation_agrees_with_the_reference_on_random_pages_and_block_numbers()
    {
        var random = new Random(20261122);
        var page = new byte[8192];
        for (var i = 0; i < 500; i++)
        {
            random.NextBytes(page);
            var block = i switch
            {
                0 => 0u,
                1 => uint.MaxValue,
                2 => 131072u,
                _ => (uint)random.NextInt64(0, 1L << 32),
            };

            Assert.Equal(ReferenceChecksum(page, block), PageChecksum.Compute(page, block));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(8190)]
    public void A_page_at_any_offset_of_a_read_buffer_gives_the_same_checksum(int offset)
    {
        var page = TestData.Random(8192, 14);
        var buffer = new byte[offset + 8192 + 5];
        page.CopyTo(buffer, offset);

        Assert.Equal(PageChecksum.Compute(page, 42), PageChecksum.Compute(buffer.AsSpan(offset, 8192), 42));
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    [InlineData(16384)]
    [InlineData(32768)]
    public void Other_page_sizes_are_summed_with_more_or_fewer_rows_like_the_reference(int pageSize)
    {
        var random = new Random(pageSize);
        var page = new byte[pageSize];
        for (var i = 0; i < 50; i++)
        {
            random.NextBytes(page);
            var block = (uint)random.NextInt64(0, 1L << 32);

            Assert.Equal(ReferenceChecksum(page, block), PageChecksum.Compute(page, block));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(8191)]
    [InlineData(8200)]
    public void A_buffer_that_is_not_a_whole_number_of_128_byte_rows_is_refused(int length)
    {
        var ex = Assert.Throws<ArgumentException>(() => PageChecksum.Compute(new byte[length], 0));

        Assert.Equal("page", ex.ParamName);
    }

    [Fact]
    public void The_page_LSN_is_the_high_word_then_the_low_word()
    {
        var page = new byte[8192];
        BinaryPrimitives.WriteUInt32LittleEndian(page, 0x1A);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(4), 0x016B3748);

        Assert.Equal(0x1A_016B_3748UL, PageChecksum.PageLsn(page));
        Assert.NotEqual(BinaryPrimitives.ReadUInt64LittleEndian(page), PageChecksum.PageLsn(page));
    }

    [Fact]
    public void The_stored_checksum_is_pd_checksum_at_byte_8()
    {
        var page = new byte[8192];
        page[8] = 0x1C;
        page[9] = 0x0E;

        Assert.Equal(0x0E1C, PageChecksum.StoredChecksum(page));
    }

    [Fact]
    public void Only_a_page_of_zero_bytes_is_all_zero()
    {
        var page = new byte[8192];
        Assert.True(PageChecksum.IsAllZero(page));

        page[8191] = 1;
        Assert.False(PageChecksum.IsAllZero(page));
    }

    private static readonly uint[] ChecksumBaseOffsets =
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

    /// <summary>pg_checksum_page from checksum_impl.h, one word at a time (pgBackRest's page-size generalisation).</summary>
    private static ushort ReferenceChecksum(byte[] page, uint blkno)
    {
        const int nSums = 32;
        const uint fnvPrime = 16777619;
        var copy = (byte[])page.Clone();
        copy[8] = 0; // pd_checksum = 0 while summing
        copy[9] = 0;
        var sums = (uint[])ChecksumBaseOffsets.Clone();

        static uint Comp(uint checksum, uint value)
        {
            var tmp = checksum ^ value;
            return unchecked((tmp * fnvPrime) ^ (tmp >> 17));
        }

        for (var i = 0; i < copy.Length / (sizeof(uint) * nSums); i++)
        {
            for (var j = 0; j < nSums; j++)
            {
                sums[j] = Comp(sums[j], BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(((i * nSums) + j) * sizeof(uint))));
            }
        }

        for (var i = 0; i < 2; i++)
        {
            for (var j = 0; j < nSums; j++)
            {
                sums[j] = Comp(sums[j], 0);
            }
        }

        uint result = 0;
        for (var i = 0; i < nSums; i++)
        {
            result ^= sums[i];
        }

        result ^= blkno;
        return (ushort)((result % 65535) + 1);
    }
}
