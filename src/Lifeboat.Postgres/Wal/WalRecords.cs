using System.Buffers.Binary;
using System.Numerics;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Wal;

/// <summary>
/// What one WAL segment says about the points a recovery can stop at: the latest commit or abort time of a transaction
/// whose record lies wholly in the segment (a recovery_target_time is reached only by replaying a commit or abort
/// record later than it), and the latest restore point.
/// </summary>
/// <param name="LastXactTime">The latest xact_time of a commit or abort record (null: the segment has none).</param>
/// <param name="LastXactLsn">Where that record starts.</param>
/// <param name="LastRestorePointTime">The time of the last XLOG_RESTORE_POINT record (null: none).</param>
/// <param name="Records">How many valid records were read.</param>
public sealed record WalSegmentSummary(DateTimeOffset? LastXactTime, Lsn? LastXactLsn, DateTimeOffset? LastRestorePointTime, int Records);

/// <summary>
/// A reader of the records of one WAL segment (PostgreSQL 13-17, src/include/access/xlogrecord.h and xlog_internal.h):
/// page headers are skipped, records may cross pages, and each record is accepted only when its page addresses, its
/// back link and its CRC-32C are right, so the stale tail of a recycled segment ends the reading. A record that goes on
/// into the next segment is left out (its commit time is not counted: the result errs on the early side).
/// </summary>
public static class WalRecords
{
    private const int RecordHeaderSize = 24;
    private const int ShortPageHeaderSize = 24;
    private const ushort FirstIsContRecord = 0x0001;
    private const byte RmXlog = 0;
    private const byte RmXact = 1;
    private const byte XlogSwitch = 0x40;
    private const byte XlogRestorePoint = 0x70;
    private const byte XactOpMask = 0x70;
    private const byte XactCommit = 0x00;
    private const byte XactAbort = 0x20;
    private const byte XactCommitPrepared = 0x30;
    private const byte XactAbortPrepared = 0x40;
    private static readonly DateTimeOffset PostgresEpoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Reads a complete segment (or .partial file); throws <see cref="LifeboatException"/> when it does not start with a WAL header.</summary>
    public static WalSegmentSummary Summarize(ReadOnlySpan<byte> segment, string what)
    {
        var header = WalHeader.Parse(segment, what);
        var reader = new Reader(segment, (int)header.BlockSize, header.PageAddress, header.MajorVersion);
        return reader.Run();
    }

    /// <summary>A PostgreSQL TimestampTz (microseconds since 2000-01-01 UTC).</summary>
    public static DateTimeOffset FromTimestampTz(long microseconds) => PostgresEpoch.AddTicks(microseconds * 10);

    private ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _seg;
        private readonly int _page;
        private readonly ulong _start;
        private readonly int _version;
        private int _pos;

        public Reader(ReadOnlySpan<byte> segment, int pageSize, ulong startAddress, int version)
        {
            _seg = segment;
            _page = pageSize;
            _start = startAddress;
            _version = version;
            _pos = 0;
        }

        public WalSegmentSummary Run()
        {
            if (_page < 1024 || _seg.Length < _page)
            {
                return new WalSegmentSummary(null, null, null, 0);
            }

            // The first page: long header, then possibly the rest of a record that began in the previous segment.
            var info = BinaryPrimitives.ReadUInt16LittleEndian(_seg[2..]);
            _pos = WalHeader.Size;
            if ((info & FirstIsContRecord) != 0 && !SkipContinuation(BinaryPrimitives.ReadUInt32LittleEndian(_seg[16..])))
            {
                return new WalSegmentSummary(null, null, null, 0);
            }

            _pos = Align(_pos);
            DateTimeOffset? lastXact = null;
            Lsn? lastXactLsn = null;
            DateTimeOffset? lastPoint = null;
            ulong? previous = null;
            var records = 0;
            var buffer = new byte[8192];
            while (true)
            {
                if (!AtRecord())
                {
                    break;
                }

                var start = _pos;
                var head = new byte[RecordHeaderSize];
                var afterHead = start;
                if (!Copy(ref afterHead, head))
                {
                    break;
                }

                var total = BinaryPrimitives.ReadUInt32LittleEndian(head);
                if (total < RecordHeaderSize || total > 1u << 30)
                {
                    break;
                }

                var prev = BinaryPrimitives.ReadUInt64LittleEndian(head.AsSpan(8));
                if (previous is { } p && prev != p)
                {
                    break;
                }

                if (buffer.Length < total)
                {
                    buffer = new byte[Math.Max(total, (uint)buffer.Length * 2)];
                }

                var end = start;
                var record = buffer.AsSpan(0, (int)total);
                if (!Copy(ref end, record) || !CrcMatches(record))
                {
                    break;
                }

                records++;
                var lsn = _start + (ulong)start;
                previous = lsn;
                var recordInfo = record[16];
                var rmid = record[17];
                if (rmid == RmXact && (recordInfo & XactOpMask) is XactCommit or XactAbort or XactCommitPrepared or XactAbortPrepared)
                {
                    if (MainData(record) is { Length: >= 8 } data)
                    {
                        var time = FromTimestampTz(BinaryPrimitives.ReadInt64LittleEndian(data));
                        if (lastXact is null || time >= lastXact)
                        {
                            lastXact = time;
                            lastXactLsn = new Lsn(lsn);
                        }
                    }
                }
                else if (rmid == RmXlog && (recordInfo & 0xF0) == XlogRestorePoint)
                {
                    if (MainData(record) is { Length: >= 8 } data)
                    {
                        lastPoint = FromTimestampTz(BinaryPrimitives.ReadInt64LittleEndian(data));
                    }
                }
                else if (rmid == RmXlog && (recordInfo & 0xF0) == XlogSwitch)
                {
                    break; // the rest of the segment is padding
                }

                _pos = Align(end);
            }

            return new WalSegmentSummary(lastXact, lastXactLsn, lastPoint, records);
        }

        /// <summary>Skips the page header when at the start of a page; false when the page is not this segment's next one.</summary>
        private bool AtRecord()
        {
            if (_pos >= _seg.Length)
            {
                return false;
            }

            if (_pos % _page == 0)
            {
                if (!PageValid(_pos / _page))
                {
                    return false;
                }

                _pos += ShortPageHeaderSize;
            }

            return _seg.Length - _pos >= 4;
        }

        private bool PageValid(int page)
        {
            var offset = page * _page;
            if (offset + ShortPageHeaderSize > _seg.Length)
            {
                return false;
            }

            var address = BinaryPrimitives.ReadUInt64LittleEndian(_seg[(offset + 8)..]);
            return address == _start + (ulong)offset;
        }

        /// <summary>Skips the continuation of a record that began in an earlier segment.</summary>
        private bool SkipContinuation(uint remaining)
        {
            while (remaining > 0)
            {
                var pageEnd = (_pos / _page + 1) * _page;
                var take = (uint)Math.Min(remaining, pageEnd - _pos);
                _pos += (int)take;
                remaining -= take;
                if (remaining > 0)
                {
                    if (_pos >= _seg.Length || !PageValid(_pos / _page))
                    {
                        return false;
                    }

                    _pos += ShortPageHeaderSize;
                }
            }

            return true;
        }

        /// <summary>Copies the bytes of a record from <paramref name="pos"/> on, skipping page headers; false at the end of the segment or a foreign page.</summary>
        private bool Copy(ref int pos, Span<byte> destination)
        {
            var done = 0;
            while (done < destination.Length)
            {
                if (pos >= _seg.Length)
                {
                    return false;
                }

                if (pos % _page == 0)
                {
                    if (!PageValid(pos / _page))
                    {
                        return false;
                    }

                    pos += ShortPageHeaderSize;
                }

                var pageEnd = (pos / _page + 1) * _page;
                var take = Math.Min(destination.Length - done, pageEnd - pos);
                _seg.Slice(pos, take).CopyTo(destination[done..]);
                done += take;
                pos += take;
            }

            return true;
        }

        private static int Align(int pos) => (pos + 7) & ~7;

        /// <summary>The record's main data: the last bytes of the record, after the block headers and data.</summary>
        private readonly byte[]? MainData(ReadOnlySpan<byte> record)
        {
            var at = RecordHeaderSize;
            while (at < record.Length)
            {
                var id = record[at];
                switch (id)
                {
                    case 255: // XLR_BLOCK_ID_DATA_SHORT
                        return at + 2 <= record.Length ? Tail(record, record[at + 1]) : null;
                    case 254: // XLR_BLOCK_ID_DATA_LONG
                        return at + 5 <= record.Length ? Tail(record, (int)BinaryPrimitives.ReadUInt32LittleEndian(record[(at + 1)..])) : null;
                    case 253: // XLR_BLOCK_ID_ORIGIN
                        at += 1 + 2;
                        break;
                    case 252: // XLR_BLOCK_ID_TOPLEVEL_XID
                        at += 1 + 4;
                        break;
                    case <= 32:
                    {
                        if (at + 4 > record.Length)
                        {
                            return null;
                        }

                        var forkFlags = record[at + 1];
                        at += 4;
                        if ((forkFlags & 0x10) != 0) // BKPBLOCK_HAS_IMAGE
                        {
                            if (at + 5 > record.Length)
                            {
                                return null;
                            }

                            var imageInfo = record[at + 4];
                            at += 5;
                            var compressed = _version >= 15 ? (imageInfo & 0x1C) != 0 : (imageInfo & 0x02) != 0;
                            if ((imageInfo & 0x01) != 0 && compressed)
                            {
                                at += 2;
                            }
                        }

                        if ((forkFlags & 0x80) == 0) // not BKPBLOCK_SAME_REL: a RelFileNode follows
                        {
                            at += 12;
                        }

                        at += 4; // the block number
                        break;
                    }

                    default:
                        return null;
                }
            }

            return null;
        }

        private static byte[]? Tail(ReadOnlySpan<byte> record, int length)
            => length <= record.Length - RecordHeaderSize ? record[^length..].ToArray() : null;

        /// <summary>xl_crc: CRC-32C of the data after the header, then of the header up to xl_crc.</summary>
        private static bool CrcMatches(ReadOnlySpan<byte> record)
        {
            var crc = Crc32C(0xFFFFFFFF, record[RecordHeaderSize..]);
            crc = Crc32C(crc, record[..20]) ^ 0xFFFFFFFF;
            return crc == BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
        }

        private static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
        {
            while (data.Length >= 8)
            {
                crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
                data = data[8..];
            }

            foreach (var b in data)
            {
                crc = BitOperations.Crc32C(crc, b);
            }

            return crc;
        }
    }
}
