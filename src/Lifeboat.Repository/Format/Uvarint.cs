namespace Lifeboat.Repository.Format;

/// <summary>Unsigned LEB128: 7 bits per byte, low groups first (repository format, section 7).</summary>
public static class Uvarint
{
    public const int MaxLength = 10;

    public static int Write(Span<byte> destination, ulong value)
    {
        var i = 0;
        while (value >= 0x80)
        {
            destination[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[i++] = (byte)value;
        return i;
    }

    public static void Write(Stream stream, ulong value)
    {
        Span<byte> buffer = stackalloc byte[MaxLength];
        stream.Write(buffer[..Write(buffer, value)]);
    }

    /// <summary>Reads a value at <paramref name="position"/>; false when the bytes end or the value overflows.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        var shift = 0;
        while (position < source.Length && shift < 64)
        {
            var b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return shift < 63 || b <= 1;
            }

            shift += 7;
        }

        return false;
    }
}
