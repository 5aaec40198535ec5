using System.Globalization;

namespace Lifeboat.Core;

/// <summary>One timeline of a history: it runs from <see cref="Begin"/> to <see cref="End"/> (exclusive; Zero = not ended).</summary>
public sealed record TimelineSpan(uint Timeline, Lsn Begin, Lsn End);

/// <summary>
/// A timeline history file (NNNNNNNN.history): each line "parentTLI\tswitchpoint\treason". Parsed as PostgreSQL's
/// readTimeLineHistory does; the result lists the ancestors of the history's timeline and the timeline itself.
/// </summary>
public static class TimelineHistory
{
    private static readonly char[] FieldSeparators = ['\t', ' '];

    public static List<TimelineSpan> Parse(uint timeline, string content)
    {
        var spans = new List<TimelineSpan>();
        var begin = Lsn.Zero;
        uint last = 0;
        foreach (var raw in content.Split('\n'))
        {
            var line = raw.TrimStart();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            // sscanf("%u\t%X/%X"): the tab in the format matches any run of white space, so spaces separate fields too.
            var fields = line.Split(FieldSeparators, 3, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !uint.TryParse(fields[0].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var tli) || !Lsn.TryParse(fields[1].Trim(), out var end))
            {
                throw new FormatException($"syntax error in the history file of timeline {timeline}: '{line}'");
            }

            if (tli <= last)
            {
                throw new FormatException($"timeline IDs must increase in the history file of timeline {timeline}");
            }

            spans.Add(new TimelineSpan(tli, begin, end));
            begin = end;
            last = tli;
        }

        if (timeline <= last)
        {
            throw new FormatException($"the history file of timeline {timeline} names a later timeline {last}");
        }

        spans.Add(new TimelineSpan(timeline, begin, Lsn.Zero));
        return spans;
    }

    /// <summary>Whether WAL position <paramref name="lsn"/> of timeline <paramref name="tli"/> lies on the path described by the history.</summary>
    public static bool Contains(IReadOnlyList<TimelineSpan> history, uint tli, Lsn lsn)
    {
        foreach (var span in history)
        {
            if (span.Timeline == tli)
            {
                return lsn >= span.Begin && (span.End == Lsn.Zero || lsn <= span.End);
            }
        }

        return false;
    }
}
