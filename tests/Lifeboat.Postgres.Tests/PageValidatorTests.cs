using System.Buffers.Binary;
using Lifeboat.Postgres.Pages;

namespace Lifeboat.Postgres.Tests;

public sealed class PageValidatorTests : IDisposable
{
    private const int PageSize = 8192;
    private const uint SegmentBlocks = 131072;
    private static readonly ulong StartLsn = 0x2_0000_0000;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A page as PostgreSQL writes it: header (LSN, bounds, layout version 4), data, and its checksum for <paramref name="block"/>.</summary>
    private static byte[] Page(uint block, ulong lsn, int seed)
    {
        var page = TestData.Random(PageSize, seed);
        BinaryPrimitives.WriteUInt32LittleEndian(page, (uint)(lsn >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(4), (uint)lsn);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(10), 0); // pd_flags
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(12), 40); // pd_lower
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(14), 4000); // pd_upper
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(16), PageSize); // pd_special
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(18), PageSize | 4); // pd_pagesize_version
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(8), PageChecksum.Compute(page, block));
        return page;
    }

    /// <summary>Writes <paramref name="pages"/> at page <paramref name="firstPage"/> of a file and checks them as read from it.</summary>
    private List<uint> Check(uint segment, int firstPage, params byte[][] pages)
    {
        var buffer = pages.SelectMany(p => p).ToArray();
        var path = _dir.Combine("16384." + segment);
        using (var file = File.Create(path))
        {
            file.Write(new byte[firstPage * PageSize]);
            file.Write(buffer);
        }

        return CheckBuffer(path, buffer, firstPage);
    }

    private static List<uint> CheckBuffer(string path, byte[] buffer, int firstPage)
    {
        var failed = new List<uint>();
        using var handle = File.OpenHandle(path);
        new PageValidator(PageSize, StartLsn, SegmentBlocks).Check(buffer, (long)firstPage * PageSize, 2, handle, failed);
        return failed;
    }

    private static uint Block(int pageInFile) => (2 * SegmentBlocks) + (uint)pageInFile;

    [Fact]
    public void Pages_with_correct_checksums_pass()
    {
        var failed = Check(2, 10, Page(Block(10), 0x1_0000_0000, 1), Page(Block(11), 0x1_0000_0001, 2), Page(Block(12), 5, 3));

        Assert.Empty(failed);
    }

    [Fact]
    public void A_corrupted_page_is_reported_with_its_relation_block_number()
    {
        var corrupted = Page(Block(11), 0x1_0000_0000, 2);
        corrupted[5000] ^= 0x40;

        var failed = Check(2, 10, Page(Block(10), 0x1_0000_0000, 1), corrupted, Page(Block(12), 0x1_0000_0000, 3));

        Assert.Equal([(2 * 131072) + 11u], failed);
    }

    [Fact]
    public void A_page_checksummed_with_its_block_number_within_the_segment_file_fails()
    {
        var failed = Check(2, 10, Page(10, 0x1_0000_0000, 1));

        Assert.Equal([Block(10)], failed);
    }

    [Fact]
    public void An_all_zero_page_passes()
    {
        var failed = Check(2, 0, new byte[PageSize], Page(Block(1), 0x1_0000_0000, 1), new byte[PageSize]);

        Assert.Empty(failed);
    }

    [Fact]
    public void A_new_page_with_one_byte_set_fails()
    {
        var page = new byte[PageSize];
        page[4000] = 1;

        Assert.Equal([Block(0)], Check(2, 0, page));
    }

    [Fact]
    public void A_page_changed_after_the_backup_started_is_not_checked()
    {
        var atStart = Page(Block(0), StartLsn, 1);
        atStart[5000] ^= 0x40;
        var afterStart = Page(Block(1), StartLsn + 1, 2);
        afterStart[5000] ^= 0x40;
        var beforeStart = Page(Block(2), StartLsn - 1, 3);
        beforeStart[5000] ^= 0x40;

        var failed = Check(2, 0, atStart, afterStart, beforeStart);

        Assert.Equal([Block(2)], failed);
    }

    [Fact]
    public void A_page_that_changed_between_the_read_and_the_second_read_is_not_reported()
    {
        var onDisk = Page(Block(0), 0x1_0000_0000, 1);
        var path = _dir.Combine("16384.2");
        File.WriteAllBytes(path, onDisk);
        var torn = (byte[])onDisk.Clone();
        torn[5000] ^= 0x40; // what the first read saw while PostgreSQL was writing the page

        Assert.Empty(CheckBuffer(path, torn, 0));
    }

    [Fact]
    public void An_incomplete_page_at_the_end_of_the_buffer_is_not_checked()
    {
        var buffer = Page(Block(0), 0x1_0000_0000, 1).Concat(TestData.Random(100, 2)).ToArray();
        var path = _dir.Combine("16384.2");
        File.WriteAllBytes(path, buffer);

        Assert.Empty(CheckBuffer(path, buffer, 0));
    }

    [Theory]
    [InlineData(new uint[] { 3, 7, 8, 9 }, "3, 7-9")]
    [InlineData(new uint[] { }, "")]
    [InlineData(new uint[] { 5 }, "5")]
    [InlineData(new uint[] { 1, 2 }, "1-2")]
    [InlineData(new uint[] { 0, 2, 4, 5, 6, 262155 }, "0, 2, 4-6, 262155")]
    public void Block_numbers_are_formatted_as_single_numbers_and_ranges(uint[] blocks, string expected)
    {
        Assert.Equal(expected, PageValidator.FormatBlocks(blocks));
    }
}
