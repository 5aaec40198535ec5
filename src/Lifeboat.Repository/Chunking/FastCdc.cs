using System.Security.Cryptography;

namespace Lifeboat.Repository.Chunking;

/// <summary>Sizes for a content-defined chunker; <see cref="Average"/> is a power of two.</summary>
public sealed record ChunkerSizes(int Min, int Average, int Max)
{
    public static ChunkerSizes Data { get; } = new(256 * 1024, 1024 * 1024, 4 * 1024 * 1024);

    public static ChunkerSizes Tree { get; } = new(512, 2048, 16 * 1024);

    public void Validate()
    {
        if (Min < 64 || Average <= Min || Max <= Average || !int.IsPow2(Average) || Max > 64 * 1024 * 1024)
        {
            throw new ArgumentException($"invalid chunker sizes {Min}/{Average}/{Max}: need 64 ≤ min < avg < max ≤ 64 MiB, avg a power of two");
        }
    }
}

/// <summary>
/// FastCDC content-defined chunking with normalised chunking level 2 (repository format, section 6).
/// The gear table is derived from the repository's chunker key, so boundaries are repository-specific.
/// Stateless and thread-safe.
/// </summary>
public sealed class FastCdc
{
    private readonly ulong[] _gear;
    private readonly ulong _maskS;
    private readonly ulong _maskL;

    public FastCdc(byte[] chunkerKey, ChunkerSizes sizes)
    {
        sizes.Validate();
        Sizes = sizes;
        _gear = GearTable(chunkerKey);
        var bits = int.Log2(sizes.Average);
        _maskS = HighBits(bits + 2);
        _maskL = HighBits(bits - 2);
    }

    public ChunkerSizes Sizes { get; }

    public int Min => Sizes.Min;

    public int Max => Sizes.Max;

    /// <summary>
    /// The length of the chunk that starts at <paramref name="data"/>[0], or -1 when more data is needed to decide
    /// (only when <paramref name="isFinal"/> is false and fewer than <see cref="Max"/> bytes are given).
    /// </summary>
    public unsafe int Cut(ReadOnlySpan<byte> data, bool isFinal)
    {
        var n = data.Length;
        if (n <= Sizes.Min)
        {
            return isFinal ? n : -1;
        }

        var limit = Math.Min(n, Sizes.Max);
        var normal = Math.Min(Sizes.Average, limit);
        ulong fp = 0;
        var i = Sizes.Min;
        fixed (byte* p = data)
        fixed (ulong* gear = _gear)
        {
            var maskS = _maskS;
            for (; i < normal; i++)
            {
                fp = (fp << 1) + gear[p[i]];
                if ((fp & maskS) == 0)
                {
                    return i + 1;
                }
            }

            var maskL = _maskL;
            for (; i < limit; i++)
            {
                fp = (fp << 1) + gear[p[i]];
                if ((fp & maskL) == 0)
                {
                    return i + 1;
                }
            }
        }

        if (limit == Sizes.Max)
        {
            return Sizes.Max;
        }

        return isFinal ? n : -1;
    }

    /// <summary><c>gear[i] = uint64-le(HMAC-SHA256(chunkerKey, [i])[0..8])</c>.</summary>
    internal static ulong[] GearTable(byte[] chunkerKey)
    {
        var gear = new ulong[256];
        Span<byte> input = stackalloc byte[1];
        Span<byte> digest = stackalloc byte[32];
        for (var i = 0; i < 256; i++)
        {
            input[0] = (byte)i;
            HMACSHA256.HashData(chunkerKey, input, digest);
            gear[i] = BitConverter.IsLittleEndian
                ? BitConverter.ToUInt64(digest)
                : System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(digest);
        }

        return gear;
    }

    private static ulong HighBits(int count) => count <= 0 ? 0 : ulong.MaxValue << (64 - count);
}

/// <summary>
/// Splits a stream into content-defined chunks. Each chunk returned is valid until the next call.
/// Not thread-safe.
/// </summary>
public sealed class StreamChunker
{
    private readonly FastCdc _cdc;
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _start;
    private int _end;
    private bool _eof;

    public StreamChunker(FastCdc cdc, Stream stream, byte[] buffer)
    {
        if (buffer.Length < cdc.Max * 2)
        {
            throw new ArgumentException("the buffer must hold at least two maximum-size chunks", nameof(buffer));
        }

        _cdc = cdc;
        _stream = stream;
        _buffer = buffer;
    }

    /// <summary>Bytes read from the stream so far.</summary>
    public long BytesRead { get; private set; }

    /// <summary>The next chunk, or an empty memory at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> NextAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_end - _start >= _cdc.Max || _eof)
            {
                if (_end == _start)
                {
                    return ReadOnlyMemory<byte>.Empty;
                }

                var cut = _cdc.Cut(_buffer.AsSpan(_start, _end - _start), _eof);
                if (cut > 0)
                {
                    var chunk = _buffer.AsMemory(_start, cut);
                    _start += cut;
                    return chunk;
                }
            }

            await FillAsync(cancellationToken);
        }
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        while (_end < _buffer.Length)
        {
            var n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (n == 0)
            {
                _eof = true;
                return;
            }

            _end += n;
            BytesRead += n;
            if (_end - _start >= _cdc.Max)
            {
                return;
            }
        }
    }
}
