using System.Buffers.Binary;
using System.Text;

namespace Lifeboat.Benchmarks;

/// <summary>The two data sets every throughput figure is measured on.</summary>
public enum DataSet
{
    /// <summary>PostgreSQL heap pages of a pgbench_accounts table: highly compressible (about 20:1 with zstd -3).</summary>
    Pgbench,

    /// <summary>JSON-like application records with numbers, ids and text, plus incompressible blobs (about 3:1 with zstd -3).</summary>
    Realistic,
}

/// <summary>
/// Deterministic generators for the data sets: the same kind and length give the same bytes on every machine and
/// every run (a fixed-seed SplitMix64, no <see cref="Random"/>), so bench/pipeline-vs-zstd.sh and the
/// BenchmarkDotNet suite measure the same data.
/// </summary>
public static class DataSets
{
    public static byte[] Generate(DataSet kind, int length)
    {
        var data = new byte[length];
        Create(kind).Fill(data);
        return data;
    }

    public static void WriteFile(DataSet kind, string path, long length)
    {
        var generator = Create(kind);
        var buffer = new byte[1 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        while (length > 0)
        {
            var n = (int)Math.Min(buffer.Length, length);
            generator.Fill(buffer.AsSpan(0, n));
            file.Write(buffer, 0, n);
            length -= n;
        }
    }

    public static DataSet Parse(string name) => name.ToLowerInvariant() switch
    {
        "pgbench" => DataSet.Pgbench,
        "realistic" => DataSet.Realistic,
        _ => throw new ArgumentException($"unknown data set '{name}' (pgbench or realistic)"),
    };

    private static Generator Create(DataSet kind) => kind switch
    {
        DataSet.Pgbench => new PgbenchGenerator(),
        DataSet.Realistic => new RealisticGenerator(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}

/// <summary>SplitMix64: tiny, fast, and fully specified, so data sets are reproducible across .NET versions.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n).</summary>
    public int Below(int n) => (int)((Next() >> 33) % (ulong)n);

    public void Fill(Span<byte> destination)
    {
        while (destination.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, Next());
            destination = destination[8..];
        }

        if (!destination.IsEmpty)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, Next());
            last[..destination.Length].CopyTo(destination);
        }
    }
}

/// <summary>A stream of generated records, cut at any length.</summary>
internal abstract class Generator
{
    private byte[] _record = new byte[64 * 1024];
    private int _recordLength;
    private int _recordOffset;

    public void Fill(Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (_recordOffset == _recordLength)
            {
                _recordLength = NextRecord(ref _record);
                _recordOffset = 0;
            }

            var n = Math.Min(destination.Length, _recordLength - _recordOffset);
            _record.AsSpan(_recordOffset, n).CopyTo(destination);
            _recordOffset += n;
            destination = destination[n..];
        }
    }

    /// <summary>Writes the next record into <paramref name="buffer"/> (grown as needed) and returns its length.</summary>
    protected abstract int NextRecord(ref byte[] buffer);
}

/// <summary>
/// Heap pages of pgbench_accounts (aid int4, bid int4, abalance int4, filler char(84)) as PostgreSQL 15 writes them:
/// 24-byte page header, 61 line pointers, 61 tuples of 121 bytes (MAXALIGNed to 128) filled from the page end, and
/// the hole between them. After a pgbench run some rows were updated: 18 % of the tuples carry another xmin and a balance.
/// </summary>
internal sealed class PgbenchGenerator : Generator
{
    private const int PageSize = 8192;
    private const int TuplesPerPage = 61;
    private const int TupleLength = 121;
    private const int TupleStride = 128;
    private SplitMix64 _random = new(0x5067_6265_6E63_6801UL);
    private uint _block;

    protected override int NextRecord(ref byte[] buffer)
    {
        var page = buffer.AsSpan(0, PageSize);
        page.Clear();
        var block = _block++;
        var lsn = 0x0000_0001_0000_0000UL + (block * 0x2000UL) + (ulong)_random.Below(4096);
        BinaryPrimitives.WriteUInt32LittleEndian(page, (uint)(lsn >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(page[4..], (uint)lsn);
        BinaryPrimitives.WriteUInt16LittleEndian(page[8..], (ushort)_random.Next()); // pd_checksum
        BinaryPrimitives.WriteUInt16LittleEndian(page[10..], 0x0004); // pd_flags: PD_ALL_VISIBLE
        var lower = 24 + (TuplesPerPage * 4);
        var upper = PageSize - (TuplesPerPage * TupleStride);
        BinaryPrimitives.WriteUInt16LittleEndian(page[12..], (ushort)lower);
        BinaryPrimitives.WriteUInt16LittleEndian(page[14..], (ushort)upper);
        BinaryPrimitives.WriteUInt16LittleEndian(page[16..], PageSize); // pd_special
        BinaryPrimitives.WriteUInt16LittleEndian(page[18..], PageSize | 4); // pd_pagesize_version
        for (var t = 0; t < TuplesPerPage; t++)
        {
            var offset = PageSize - ((t + 1) * TupleStride);
            var lp = (uint)offset | (1u << 15) | ((uint)TupleLength << 17); // lp_off, LP_NORMAL, lp_len
            BinaryPrimitives.WriteUInt32LittleEndian(page[(24 + (t * 4))..], lp);

            var tuple = page.Slice(offset, TupleLength);
            var updated = _random.Below(1000) < 180;
            var xmin = updated ? 1000u + (uint)_random.Below(500_000) : 738u;
            BinaryPrimitives.WriteUInt32LittleEndian(tuple, xmin);
            BinaryPrimitives.WriteUInt32LittleEndian(tuple[4..], 0); // xmax
            BinaryPrimitives.WriteUInt32LittleEndian(tuple[8..], 0); // cid
            BinaryPrimitives.WriteUInt16LittleEndian(tuple[12..], (ushort)(block >> 16)); // ctid
            BinaryPrimitives.WriteUInt16LittleEndian(tuple[14..], (ushort)block);
            BinaryPrimitives.WriteUInt16LittleEndian(tuple[16..], (ushort)(t + 1));
            BinaryPrimitives.WriteUInt16LittleEndian(tuple[18..], 4); // infomask2: 4 attributes
            BinaryPrimitives.WriteUInt16LittleEndian(tuple[20..], (ushort)(updated ? 0x2902 : 0x0902)); // infomask
            tuple[22] = 24; // t_hoff
            var aid = (int)((block * TuplesPerPage) + (uint)t + 1);
            BinaryPrimitives.WriteInt32LittleEndian(tuple[24..], aid);
            BinaryPrimitives.WriteInt32LittleEndian(tuple[28..], ((aid - 1) / 100_000) + 1);
            BinaryPrimitives.WriteInt32LittleEndian(tuple[32..], updated ? _random.Below(10_001) - 5000 : 0);
            tuple[36] = (85 << 1) | 1; // short varlena header: 1 + 84 bytes
            tuple.Slice(37, 84).Fill((byte)' ');
        }

        return PageSize;
    }
}

/// <summary>
/// Application data: JSON lines of orders and events (ids, timestamps, amounts, words from a vocabulary, hex tokens)
/// and log lines, interleaved with random blobs standing for already-compressed uploads (images, PDFs).
/// </summary>
internal sealed class RealisticGenerator : Generator
{
    private static readonly string[] Words =
    [
        "order", "invoice", "customer", "payment", "shipped", "pending", "cancelled", "refund", "delivery", "address",
        "street", "avenue", "berlin", "paris", "london", "madrid", "rome", "vienna", "lisbon", "dublin", "warsaw",
        "prague", "oslo", "helsinki", "athens", "product", "widget", "gadget", "cable", "adapter", "charger", "monitor",
        "keyboard", "mouse", "laptop", "phone", "tablet", "camera", "printer", "speaker", "headset", "router", "switch",
        "server", "storage", "backup", "restore", "archive", "report", "quarterly", "annual", "summary", "draft",
        "final", "approved", "rejected", "review", "comment", "update", "create", "delete", "login", "logout",
        "session", "token", "expired", "renewed", "premium", "basic", "trial", "discount", "coupon", "gift", "card",
        "visa", "mastercard", "paypal", "transfer", "euro", "dollar", "pound", "tax", "vat", "net", "gross", "total",
        "quantity", "price", "weight", "color", "red", "blue", "green", "black", "white", "silver", "small", "medium",
        "large", "express", "standard", "economy", "warehouse", "north", "south", "east", "west", "central",
    ];

    private static readonly string[] Levels = ["INFO", "INFO", "INFO", "INFO", "WARN", "DEBUG", "DEBUG", "ERROR"];

    private SplitMix64 _random = new(0x7265_616C_6973_7469UL);
    private long _id = 1_000_000;
    private long _time = 1_763_800_000_000; // 2025-11-22 in Unix milliseconds
    private readonly StringBuilder _text = new();

    protected override int NextRecord(ref byte[] buffer)
    {
        var kind = _random.Below(1000);
        if (kind < 3)
        {
            // 3 records in 1000, about 9 % of the bytes: an incompressible blob (an uploaded JPEG, a PDF): 4 to 16 KiB of random bytes.
            var length = 4096 + _random.Below(12 * 1024);
            EnsureCapacity(ref buffer, length);
            _random.Fill(buffer.AsSpan(0, length));
            return length;
        }

        _text.Clear();
        if (kind < 700)
        {
            AppendOrder();
        }
        else
        {
            AppendLogLine();
        }

        var text = _text.ToString();
        EnsureCapacity(ref buffer, Encoding.UTF8.GetByteCount(text));
        return Encoding.UTF8.GetBytes(text, buffer);
    }

    private void AppendOrder()
    {
        _id += 1 + _random.Below(3);
        _time += _random.Below(2000);
        var t = DateTimeOffset.FromUnixTimeMilliseconds(_time);
        var items = 1 + _random.Below(4);
        _text.Append("{\"id\":").Append(_id)
            .Append(",\"created_at\":\"").Append(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture))
            .Append("\",\"customer\":{\"id\":").Append(10_000 + _random.Below(90_000))
            .Append(",\"name\":\"").Append(Word()).Append(' ').Append(Word())
            .Append("\",\"city\":\"").Append(Words[11 + _random.Below(14)])
            .Append("\"},\"status\":\"").Append(Words[4 + _random.Below(4)])
            .Append("\",\"token\":\"");
        AppendHex(16);
        _text.Append("\",\"items\":[");
        for (var i = 0; i < items; i++)
        {
            if (i > 0)
            {
                _text.Append(',');
            }

            _text.Append("{\"sku\":\"").Append(Words[25 + _random.Below(20)]).Append('-').Append(_random.Below(1000))
                .Append("\",\"qty\":").Append(1 + _random.Below(9))
                .Append(",\"price\":").Append(_random.Below(100_000) / 100.0)
                .Append('}');
        }

        _text.Append("],\"total\":").Append(_random.Below(1_000_000) / 100.0)
            .Append(",\"currency\":\"EUR\",\"note\":\"");
        var words = _random.Below(8);
        for (var i = 0; i < words; i++)
        {
            _text.Append(i == 0 ? string.Empty : " ").Append(Word());
        }

        _text.Append("\"}\n");
    }

    private void AppendLogLine()
    {
        _time += _random.Below(500);
        var t = DateTimeOffset.FromUnixTimeMilliseconds(_time);
        _text.Append(t.ToString("yyyy-MM-dd HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture))
            .Append(' ').Append(Levels[_random.Below(Levels.Length)])
            .Append(" [worker-").Append(_random.Below(16)).Append("] request=");
        AppendHex(8);
        _text.Append(' ').Append(Word()).Append(' ').Append(Word()).Append(" user=").Append(10_000 + _random.Below(90_000))
            .Append(" duration_ms=").Append(_random.Below(5000)).Append(" bytes=").Append(_random.Below(1_000_000)).Append('\n');
    }

    private string Word()
    {
        // Skewed towards the first words, as real text is.
        var r = _random.Below(Words.Length);
        return Words[_random.Below(r + 1)];
    }

    private void AppendHex(int bytes)
    {
        const string digits = "0123456789abcdef";
        for (var i = 0; i < bytes; i++)
        {
            var b = (int)(_random.Next() >> 56);
            _text.Append(digits[b >> 4]).Append(digits[b & 15]);
        }
    }

    private static void EnsureCapacity(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }
    }
}
