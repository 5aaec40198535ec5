using System.Globalization;

namespace Lifeboat.Core;

/// <summary>A PostgreSQL WAL position (pg_lsn), written as two hex numbers "X/Y".</summary>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static Lsn Zero => new(0);

    public static Lsn Parse(string text)
    {
        if (!TryParse(text, out var lsn))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"'{text}' is not an LSN", "write an LSN as PostgreSQL shows it, for example 0/16B3748");
        }

        return lsn;
    }

    public static bool TryParse(string? text, out Lsn lsn)
    {
        lsn = Zero;
        var slash = text?.IndexOf('/') ?? -1;
        if (slash <= 0 || slash == text!.Length - 1
            || !uint.TryParse(text.AsSpan(0, slash), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hi)
            || !uint.TryParse(text.AsSpan(slash + 1), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var lo))
        {
            return false;
        }

        lsn = new Lsn(((ulong)hi << 32) | lo);
        return true;
    }

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn a, Lsn b) => a.Value < b.Value;

    public static bool operator >(Lsn a, Lsn b) => a.Value > b.Value;

    public static bool operator <=(Lsn a, Lsn b) => a.Value <= b.Value;

    public static bool operator >=(Lsn a, Lsn b) => a.Value >= b.Value;

    /// <summary>The segment number holding this position.</summary>
    public ulong Segment(long segmentSize) => Value / (ulong)segmentSize;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(uint)(Value >> 32):X}/{(uint)Value:X}");
}
