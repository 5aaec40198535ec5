using Microsoft.Win32.SafeHandles;

namespace Lifeboat.Postgres.Pages;

/// <summary>
/// Checks the pages of a relation file as they are read for a backup (PostgreSQL's basebackup and pgBackRest rules):
/// new pages (all zero) and pages changed after the backup started (LSN ≥ start LSN: WAL replay rewrites them) are
/// not checked; a page that fails is read again once, and reported only if it still fails with the same bytes
/// (a page that changed meanwhile is being written by PostgreSQL and is repaired by WAL replay).
/// </summary>
public sealed class PageValidator
{
    private readonly int _pageSize;
    private readonly ulong _startLsn;
    private readonly uint _segmentBlocks;

    public PageValidator(int pageSize, ulong startLsn, uint segmentBlocks)
    {
        _pageSize = pageSize;
        _startLsn = startLsn;
        _segmentBlocks = segmentBlocks;
    }

    /// <summary>
    /// Checks the complete pages of <paramref name="buffer"/>, which holds the file's bytes from <paramref name="fileOffset"/>.
    /// Failed block numbers (relation block numbers: segment × blocks per segment + page) are added to <paramref name="failed"/>.
    /// </summary>
    public void Check(ReadOnlySpan<byte> buffer, long fileOffset, uint segment, SafeFileHandle file, List<uint> failed)
    {
        byte[]? reread = null;
        for (var pos = 0; pos + _pageSize <= buffer.Length; pos += _pageSize)
        {
            var page = buffer.Slice(pos, _pageSize);
            var pageInFile = (uint)((fileOffset + pos) / _pageSize);
            var block = (segment * _segmentBlocks) + pageInFile;
            if (IsValid(page, block))
            {
                continue;
            }

            reread ??= new byte[_pageSize];
            var n = RandomAccess.Read(file, reread, fileOffset + pos);
            if (n < _pageSize || !reread.AsSpan().SequenceEqual(page))
            {
                continue; // changed while we read it: PostgreSQL is writing it, WAL replay repairs it
            }

            failed.Add(block);
        }
    }

    private bool IsValid(ReadOnlySpan<byte> page, uint block)
    {
        if (PageChecksum.PageLsn(page) >= _startLsn)
        {
            return true;
        }

        if (PageChecksum.StoredChecksum(page) == PageChecksum.Compute(page, block))
        {
            return true;
        }

        return PageChecksum.IsAllZero(page);
    }

    /// <summary>Formats block numbers as "3, 7-9".</summary>
    public static string FormatBlocks(IReadOnlyList<uint> blocks)
    {
        var parts = new List<string>();
        for (var i = 0; i < blocks.Count; i++)
        {
            var start = blocks[i];
            var end = start;
            while (i + 1 < blocks.Count && blocks[i + 1] == end + 1)
            {
                end = blocks[++i];
            }

            parts.Add(start == end ? start.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{start}-{end}");
        }

        return string.Join(", ", parts);
    }
}
