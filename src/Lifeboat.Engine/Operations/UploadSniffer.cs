using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Lifeboat.Engine.Operations;

/// <summary>What an upload turned out to be, from its first bytes (<see cref="UploadSniffer"/>).</summary>
/// <param name="Kind">"custom" (a pg_dump archive), "tar", "plain" (an SQL script), or null: none of them.</param>
/// <param name="Compression">"gzip" or "zstd" when the body was compressed (<see cref="Content"/> is then decompressed), else null.</param>
/// <param name="Content">The whole content from its first byte (the bytes looked at are read again), decompressed.</param>
/// <param name="Found">What it is, for people: "a plain SQL script (gzip-compressed)", "binary data starting 0x89 50 4e 47 …".</param>
/// <param name="Head">The first bytes of the (decompressed) content, as looked at.</param>
public sealed record SniffedUpload(string? Kind, string? Compression, Stream Content, string Found, ReadOnlyMemory<byte> Head);

/// <summary>
/// Tells an upload's format from its content, never from a name: the first bytes of the body (and, when they are the
/// magic of gzip or zstd, of what they decompress to) are read and given back in front of the rest, so the body is
/// still read once, as a stream.
/// </summary>
public static class UploadSniffer
{
    public const string Custom = "custom";
    public const string Tar = "tar";
    public const string Plain = "plain";

    /// <summary>How much of the content is looked at: a pg_dump script's header comments and first statement fit.</summary>
    public const int HeadSize = 16 * 1024;

    private static readonly HashSet<string> Statements = new(StringComparer.OrdinalIgnoreCase)
    {
        "ABORT", "ALTER", "ANALYZE", "BEGIN", "CALL", "CHECKPOINT", "CLOSE", "CLUSTER", "COMMENT", "COMMIT", "COPY", "CREATE",
        "DEALLOCATE", "DECLARE", "DELETE", "DISCARD", "DO", "DROP", "END", "EXECUTE", "EXPLAIN", "GRANT", "IMPORT", "INSERT",
        "LISTEN", "LOCK", "MERGE", "NOTIFY", "PREPARE", "REASSIGN", "REFRESH", "REINDEX", "RELEASE", "RESET", "REVOKE", "ROLLBACK",
        "SAVEPOINT", "SECURITY", "SELECT", "SET", "SHOW", "START", "TABLE", "TRUNCATE", "UNLISTEN", "UPDATE", "VACUUM", "VALUES", "WITH",
    };

    public static async Task<SniffedUpload> SniffAsync(Stream body, CancellationToken cancellationToken)
    {
        var (raw, head) = await PeekAsync(body, HeadSize, cancellationToken);
        var compression = head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B ? "gzip"
            : head.Length >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD ? "zstd"
            : null;
        var content = raw;
        if (compression is not null)
        {
            Stream decompressed = compression == "gzip" ? new GZipStream(raw, CompressionMode.Decompress) : new Lifeboat.Repository.Compression.ZstdDecompressionStream(raw);
            try
            {
                (content, head) = await PeekAsync(decompressed, HeadSize, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException)
            {
                return new SniffedUpload(null, compression, raw, $"a {compression} stream that does not decompress ({ex.Message})", head);
            }
        }

        var (kind, found) = Classify(head);
        if (compression is not null)
        {
            found += $" ({compression}-compressed)";
        }

        return new SniffedUpload(kind, compression, content, found, head);
    }

    private static (string? Kind, string Found) Classify(byte[] head)
    {
        var h = head.AsSpan();
        if (h.Length == 0)
        {
            return (null, "an empty body");
        }

        if (h.StartsWith("PGDMP"u8))
        {
            return (Custom, "a pg_dump custom-format archive");
        }

        if (IsTar(h))
        {
            return (Tar, "a tar archive");
        }

        var other = h.StartsWith("BZh"u8) ? "a bzip2-compressed file (only gzip and zstd are decompressed)"
            : h.StartsWith(new byte[] { 0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00 }) ? "an xz-compressed file (only gzip and zstd are decompressed)"
            : h.StartsWith(new byte[] { 0x04, 0x22, 0x4D, 0x18 }) ? "an lz4-compressed file (only gzip and zstd are decompressed)"
            : h.StartsWith("PK\u0003\u0004"u8) ? "a zip archive"
            : h.StartsWith("SQLite format 3\0"u8) ? "an SQLite database"
            : null;
        if (other is not null)
        {
            return (null, other);
        }

        if (!IsText(h))
        {
            return (null, "binary data starting " + string.Join(' ', h[..Math.Min(8, h.Length)].ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
        }

        var text = Encoding.UTF8.GetString(h);
        var first = FirstStatement(text);
        if (first is null)
        {
            return head.Length < HeadSize ? (null, "text with no SQL statement in it") : (Plain, "a plain SQL script");
        }

        if (first.StartsWith('\\') || Statements.Contains(Word(first)))
        {
            return (Plain, "a plain SQL script");
        }

        var start = first.Split('\n')[0];
        return (null, $"text that does not start with an SQL statement (it starts '{(start.Length > 40 ? start[..40] + "…" : start)}')");
    }

    /// <summary>ustar, pax and GNU tars have the magic "ustar" at 257; a v7 tar only its header checksum.</summary>
    private static bool IsTar(ReadOnlySpan<byte> h)
    {
        if (h.Length < 512)
        {
            return false;
        }

        if (h[257..262].SequenceEqual("ustar"u8))
        {
            return true;
        }

        var field = Encoding.ASCII.GetString(h[148..156]).Trim(' ', '\0');
        if (field.Length == 0 || !long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            return false;
        }

        long expected;
        try
        {
            expected = Convert.ToInt64(field, 8);
        }
        catch (FormatException)
        {
            return false;
        }

        long sum = 0;
        for (var i = 0; i < 512; i++)
        {
            sum += i is >= 148 and < 156 ? ' ' : h[i];
        }

        return sum == expected && h[0] != 0;
    }

    /// <summary>No NUL and no control characters but tab, newlines and form feed (the last bytes may cut a UTF-8 character).</summary>
    private static bool IsText(ReadOnlySpan<byte> h)
    {
        foreach (var b in h)
        {
            if (b < 0x20 && b is not ((byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0C))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The text from its first statement on, past a BOM, blanks and comments; null when there is none.</summary>
    private static string? FirstStatement(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i]) || text[i] == '\uFEFF')
            {
                i++;
            }
            else if (string.CompareOrdinal(text, i, "--", 0, 2) == 0)
            {
                var end = text.IndexOf('\n', i);
                if (end < 0)
                {
                    return null;
                }

                i = end + 1;
            }
            else if (string.CompareOrdinal(text, i, "/*", 0, 2) == 0)
            {
                var end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    return null;
                }

                i = end + 2;
            }
            else
            {
                return text[i..];
            }
        }

        return null;
    }

    private static string Word(string text)
    {
        var n = 0;
        while (n < text.Length && char.IsAsciiLetter(text[n]))
        {
            n++;
        }

        return text[..n];
    }

    private static async Task<(Stream Stream, byte[] Head)> PeekAsync(Stream stream, int size, CancellationToken cancellationToken)
    {
        var buffer = new byte[size];
        var read = await stream.ReadAtLeastAsync(buffer, size, throwOnEndOfStream: false, cancellationToken);
        var head = buffer[..read];
        return (new PrefixedStream(head, stream), head);
    }

    /// <summary>A read-only stream: <c>prefix</c>, then the rest of <c>inner</c> (which it does not own).</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream inner) : Stream
    {
        private int _offset;
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                _position += n;
                return n;
            }

            var read = inner.Read(buffer);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsMemory(_offset, n).CopyTo(buffer);
                _offset += n;
                _position += n;
                return n;
            }

            var read = await inner.ReadAsync(buffer, cancellationToken);
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
