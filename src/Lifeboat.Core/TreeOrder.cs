namespace Lifeboat.Core;

/// <summary>
/// The order of tree entries (repository format, section 9): depth-first, siblings ordered by the UTF-8 bytes of their
/// names (code point order), so a directory is immediately followed by its contents. Equivalent to comparing paths by
/// code point with '/' sorting before every other character. Raw paths (<see cref="RawPath"/>: names that are not UTF-8)
/// compare by their bytes.
/// </summary>
public sealed class TreeOrder : IComparer<string>
{
    public static TreeOrder Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a == b)
            {
                continue;
            }

            // An escaped byte is not a code point: compare the bytes (rare; names that are not UTF-8).
            if (RawPath.IsEscapedByte(x, i) || RawPath.IsEscapedByte(y, i))
            {
                return RawPath.CompareBytes(x, y);
            }

            // '/' ends a component: it sorts before every other character.
            if (a == '/') return -1;
            if (b == '/') return 1;
            return CodePointOrder(a) < CodePointOrder(b) ? -1 : 1;
        }

        return x.Length.CompareTo(y.Length);
    }

    // UTF-16 code units sort like code points (and like UTF-8 bytes) except that surrogates must follow U+E000..U+FFFF.
    private static int CodePointOrder(char c) => c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000;
}
