using System.Globalization;

namespace Lifeboat.Core;

/// <summary>Sizes for people (IEC units: KiB, MiB, GiB) and their parsing. JSON output uses plain byte counts.</summary>
public static class ByteSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Format(long bytes)
    {
        if (bytes < 1024 && bytes > -1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>
    /// Parses "33554432", "32MiB", "32 MiB", "1.5GiB", "64k" (k/M/G/T are read as KiB/MiB/GiB/TiB).
    /// </summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        var split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] == '.'))
        {
            split++;
        }

        if (split == 0 || !double.TryParse(s[..split], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        var unit = s[split..].Trim().ToUpperInvariant();
        long multiplier = unit switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            "T" or "TB" or "TIB" => 1L << 40,
            _ => 0,
        };
        if (multiplier == 0)
        {
            return false;
        }

        var result = number * multiplier;
        // (double)long.MaxValue rounds up to 2^63, which does not fit: converting it would give long.MinValue.
        if (!(result >= 0 && result < long.MaxValue))
        {
            return false;
        }

        bytes = (long)result;
        return true;
    }

    public static long Parse(string text, string what)
    {
        if (!TryParse(text, out var bytes))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} '{text}' is not a size", "write a number of bytes or a size with an IEC unit, for example 32MiB");
        }

        return bytes;
    }
}
