using Lifeboat.Repository.Compression;

namespace Lifeboat.Repository.Crypto;

/// <summary>
/// Encodes bodies into sealed objects (<c>seal(encoding || body)</c>, repository format section 4) and back.
/// Not thread-safe: one per worker (it owns a zstd context and scratch buffers).
/// </summary>
public sealed class ObjectCodec : IDisposable
{
    public const byte EncodingStored = 0x00;
    public const byte EncodingZstd = 0x01;

    /// <summary>Largest body a reader accepts: a damaged size field must not cause a huge allocation.</summary>
    public const int MaxBodyLength = 512 * 1024 * 1024;

    private readonly Sealer _sealer;
    private readonly ZstdCodec _zstd = new();
    private byte[] _plain = new byte[64 * 1024];

    public ObjectCodec(Sealer sealer, int compressionLevel)
    {
        _sealer = sealer;
        CompressionLevel = compressionLevel;
    }

    public int CompressionLevel { get; }

    public Sealer Sealer => _sealer;

    /// <summary>
    /// Seals <paramref name="body"/>, zstd-compressed when <paramref name="compress"/> and when that saves at least 3 %.
    /// Writes into <paramref name="output"/> (grown as needed) and returns the sealed length.
    /// </summary>
    public int Encode(ReadOnlySpan<byte> body, bool compress, SealKind kind, ref byte[] output, out bool compressed)
    {
        var bound = 1 + (compress ? Math.Max(ZstdCodec.MaxCompressedLength(body.Length), body.Length) : body.Length);
        EnsureCapacity(ref _plain, bound);
        var plainLength = 0;
        compressed = false;
        if (compress && body.Length > 0)
        {
            var n = _zstd.Compress(body, _plain.AsSpan(1), CompressionLevel);
            if (n < body.Length - (body.Length / 32))
            {
                _plain[0] = EncodingZstd;
                plainLength = 1 + n;
                compressed = true;
            }
        }

        if (!compressed)
        {
            _plain[0] = EncodingStored;
            body.CopyTo(_plain.AsSpan(1));
            plainLength = 1 + body.Length;
        }

        var sealedLength = plainLength + _sealer.Overhead;
        EnsureCapacity(ref output, sealedLength);
        _sealer.Seal(_plain.AsSpan(0, plainLength), output.AsSpan(0, sealedLength), kind);
        return sealedLength;
    }

    public byte[] Encode(ReadOnlySpan<byte> body, bool compress, SealKind kind)
    {
        byte[] output = [];
        var n = Encode(body, compress, kind, ref output, out _);
        return n == output.Length ? output : output.AsSpan(0, n).ToArray();
    }

    /// <summary>
    /// Opens sealed bytes and returns the body; null when they are damaged (do not authenticate, bad encoding,
    /// invalid zstd, or a body larger than <paramref name="maxBodyLength"/>). <paramref name="error"/> says which.
    /// </summary>
    public byte[]? TryDecode(ReadOnlySpan<byte> sealedBytes, SealKind kind, out string? error, int maxBodyLength = MaxBodyLength)
    {
        var plainLength = sealedBytes.Length - _sealer.Overhead;
        if (plainLength < 1)
        {
            error = "too short";
            return null;
        }

        EnsureCapacity(ref _plain, plainLength);
        var plain = _plain.AsSpan(0, plainLength);
        if (!_sealer.TryOpen(sealedBytes, plain, kind))
        {
            error = _sealer.IsEncrypted ? "authentication failed (modified, truncated or not sealed with this repository's key)" : "checksum mismatch";
            return null;
        }

        switch (plain[0])
        {
            case EncodingStored:
                error = null;
                return plain[1..].ToArray();
            case EncodingZstd:
                var size = ZstdCodec.GetContentSize(plain[1..]);
                if (size < 0 || size > maxBodyLength)
                {
                    error = "bad zstd frame header";
                    return null;
                }

                var body = new byte[size];
                if (!_zstd.TryDecompress(plain[1..], body))
                {
                    error = "zstd decompression failed";
                    return null;
                }

                error = null;
                return body;
            default:
                error = $"unknown encoding 0x{plain[0]:x2}";
                return null;
        }
    }

    public void Dispose() => _zstd.Dispose();

    private static void EnsureCapacity(ref byte[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new byte[Math.Max(length, buffer.Length * 2)];
        }
    }
}
