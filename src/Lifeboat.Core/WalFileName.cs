using System.Globalization;
using System.Text.RegularExpressions;

namespace Lifeboat.Core;

public enum WalFileKind
{
    /// <summary>A 24-hex-digit segment: TTTTTTTTLLLLLLLLSSSSSSSS.</summary>
    Segment,
    /// <summary>A segment archived at a timeline switch, before it was complete: SEGMENT.partial.</summary>
    Partial,
    /// <summary>A backup history file: SEGMENT.OFFSET.backup.</summary>
    Backup,
    /// <summary>A timeline history file: TTTTTTTT.history.</summary>
    History,
}

/// <summary>The names PostgreSQL gives the files it archives (xlog_internal.h).</summary>
public sealed partial record WalFileName(string Name, WalFileKind Kind, uint Timeline, ulong SegmentNumber)
{
    public const long DefaultSegmentSize = 16L * 1024 * 1024;

    public static bool TryParse(string? name, long segmentSize, out WalFileName? wal)
    {
        wal = null;
        if (name is null)
        {
            return false;
        }

        var m = Pattern().Match(name);
        if (!m.Success)
        {
            return false;
        }

        var timeline = uint.Parse(m.Groups["tli"].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (m.Groups["history"].Success)
        {
            wal = new WalFileName(name, WalFileKind.History, timeline, 0);
            return true;
        }

        var log = ulong.Parse(m.Groups["log"].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var seg = ulong.Parse(m.Groups["seg"].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var perLog = 0x1_0000_0000UL / (ulong)segmentSize;
        if (seg >= perLog)
        {
            return false;
        }

        var kind = m.Groups["partial"].Success ? WalFileKind.Partial : m.Groups["backup"].Success ? WalFileKind.Backup : WalFileKind.Segment;
        wal = new WalFileName(name, kind, timeline, (log * perLog) + seg);
        return true;
    }

    /// <summary>The segment file name for a timeline and segment number.</summary>
    public static string SegmentName(uint timeline, ulong segmentNumber, long segmentSize)
    {
        var perLog = 0x1_0000_0000UL / (ulong)segmentSize;
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{(uint)(segmentNumber / perLog):X8}{(uint)(segmentNumber % perLog):X8}");
    }

    /// <summary>The segment that holds <paramref name="lsn"/>.</summary>
    public static string SegmentOf(uint timeline, Lsn lsn, long segmentSize) => SegmentName(timeline, lsn.Segment(segmentSize), segmentSize);

    /// <summary>The 24-character segment part of the name (the first 24 characters).</summary>
    public string SegmentPart => Name[..Math.Min(24, Name.Length)];

    public bool IsSegmentLike => Kind is WalFileKind.Segment or WalFileKind.Partial;

    [GeneratedRegex(@"^(?<tli>[0-9A-F]{8})(?:(?<history>\.history)|(?<log>[0-9A-F]{8})(?<seg>[0-9A-F]{8})(?:(?<partial>\.partial)|(?<backup>\.[0-9A-F]{8}\.backup))?)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
