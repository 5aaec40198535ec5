using System.Text;
using System.Text.Unicode;

namespace Lifeboat.Core;

/// <summary>
/// File names and paths as Linux holds them: bytes, which need not be UTF-8. Such a path is held in a .NET string
/// ("a raw path") that round-trips exactly: the valid UTF-8 sequences of the bytes as their characters, and each
/// byte that is not part of one as the lone low surrogate U+DC80..U+DCFF (U+DC00 + the byte; Python's
/// "surrogateescape"). Valid UTF-8 never yields a lone surrogate, so a name that is valid UTF-8 is the ordinary
/// string, and <see cref="ToBytes"/> of <see cref="FromBytes"/> is the identity on every byte string.
/// </summary>
/// <remarks>
/// A raw path must go to the file system through <c>Lifeboat.Platform.Unix</c> (which encodes it with
/// <see cref="ToBytes"/>), never through <c>System.IO</c> (which would write U+FFFD for the escaped bytes), and to
/// people, JSON and logs as <see cref="Display"/>.
/// </remarks>
public static class RawPath
{
    private const char FirstEscape = '\uDC80';
    private const char LastEscape = '\uDCFF';

    /// <summary>The raw path of <paramref name="bytes"/>.</summary>
    public static string FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        var chars = new char[bytes.Length];
        var written = 0;
        while (bytes.Length > 0)
        {
            var status = Utf8.ToUtf16(bytes, chars.AsSpan(written), out var read, out var n, replaceInvalidSequences: false);
            written += n;
            bytes = bytes[read..];
            if (status == System.Buffers.OperationStatus.Done)
            {
                break;
            }

            // The first byte of an invalid sequence stands for itself; decoding resumes after it.
            chars[written++] = (char)(0xDC00 + bytes[0]);
            bytes = bytes[1..];
        }

        return new string(chars, 0, written);
    }

    /// <summary>True when <paramref name="path"/> holds bytes that are not UTF-8 (escaped bytes).</summary>
    public static bool HasRawBytes(string path) => FirstRawByte(path) >= 0;

    /// <summary>The exact bytes of a raw path.</summary>
    public static byte[] ToBytes(string path)
    {
        if (!HasRawBytes(path))
        {
            return Encoding.UTF8.GetBytes(path);
        }

        var bytes = new List<byte>(path.Length + 8);
        Span<byte> one = stackalloc byte[4];
        for (var i = 0; i < path.Length; i++)
        {
            if (IsEscapedByte(path, i))
            {
                bytes.Add((byte)(path[i] - 0xDC00));
                continue;
            }

            var length = char.IsHighSurrogate(path[i]) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]) ? 2 : 1;
            var n = Encoding.UTF8.GetBytes(path.AsSpan(i, length), one);
            for (var k = 0; k < n; k++)
            {
                bytes.Add(one[k]);
            }

            i += length - 1;
        }

        return bytes.ToArray();
    }

    /// <summary>The bytes of a raw path followed by a NUL, for a system call.</summary>
    public static byte[] ToNullTerminated(string path)
    {
        if (!HasRawBytes(path))
        {
            // The common case, once per system call: one allocation.
            var z = new byte[Encoding.UTF8.GetByteCount(path) + 1];
            Encoding.UTF8.GetBytes(path, z);
            return z.AsSpan(0, z.Length - 1).IndexOf((byte)0) >= 0 ? throw new ArgumentException("a path cannot hold a NUL byte", nameof(path)) : z;
        }

        var bytes = ToBytes(path);
        if (bytes.AsSpan().IndexOf((byte)0) >= 0)
        {
            throw new ArgumentException("a path cannot hold a NUL byte", nameof(path));
        }

        var raw = new byte[bytes.Length + 1];
        bytes.CopyTo(raw, 0);
        return raw;
    }

    /// <summary>
    /// A raw path for people, JSON and logs: every byte that is not UTF-8 as <c>\xHH</c> (two lower-case hex digits),
    /// everything else as it is. A path that is valid UTF-8 is shown unchanged (so the form is readable, not unique:
    /// a name that really holds the four characters <c>\xff</c> looks the same).
    /// </summary>
    public static string Display(string path)
    {
        if (!HasRawBytes(path))
        {
            return path;
        }

        var s = new StringBuilder(path.Length + 16);
        for (var i = 0; i < path.Length; i++)
        {
            if (IsEscapedByte(path, i))
            {
                s.Append("\\x").Append(((int)path[i] - 0xDC00).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                s.Append(path[i]);
            }
        }

        return s.ToString();
    }

    /// <summary>The index of the first escaped byte, or -1.</summary>
    private static int FirstRawByte(string path)
    {
        var span = path.AsSpan();
        var offset = 0;
        while (true)
        {
            var i = span[offset..].IndexOfAnyInRange(FirstEscape, LastEscape);
            if (i < 0)
            {
                return -1;
            }

            if (IsEscapedByte(path, offset + i))
            {
                return offset + i;
            }

            offset += i + 1;
        }
    }

    /// <summary>A lone low surrogate U+DC80..U+DCFF (not the second half of a pair) is an escaped byte.</summary>
    internal static bool IsEscapedByte(string path, int i)
        => path[i] is >= FirstEscape and <= LastEscape && (i == 0 || !char.IsHighSurrogate(path[i - 1]));

    /// <summary>Compares the bytes of two raw paths, '/' before every other byte (tree order, repository format section 9).</summary>
    internal static int CompareBytes(string x, string y)
    {
        var a = ToBytes(x);
        var b = ToBytes(y);
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] == b[i])
            {
                continue;
            }

            if (a[i] == '/') return -1;
            if (b[i] == '/') return 1;
            return a[i] < b[i] ? -1 : 1;
        }

        return a.Length.CompareTo(b.Length);
    }
}
