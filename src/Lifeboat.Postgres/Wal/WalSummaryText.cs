using System.Globalization;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Wal;

/// <summary>
/// The content of a segment's summary object (repository format, "WAL archive"): UTF-8 lines <c>key value</c> after the
/// first line <c>lifeboat-wal-summary 1</c>: <c>last-xact-time</c> (microseconds since the Unix epoch, or <c>-</c>),
/// <c>last-xact-lsn</c> (X/Y or <c>-</c>), <c>last-restore-point-time</c> (microseconds or <c>-</c>), <c>records</c>.
/// Unknown keys are ignored.
/// </summary>
public static class WalSummaryText
{
    private const string Magic = "lifeboat-wal-summary 1";

    public static byte[] Write(WalSegmentSummary s)
    {
        var text = new StringBuilder()
            .Append(Magic).Append('\n')
            .Append("last-xact-time ").Append(Micros(s.LastXactTime)).Append('\n')
            .Append("last-xact-lsn ").Append(s.LastXactLsn?.ToString() ?? "-").Append('\n')
            .Append("last-restore-point-time ").Append(Micros(s.LastRestorePointTime)).Append('\n')
            .Append("records ").Append(s.Records.ToString(CultureInfo.InvariantCulture)).Append('\n');
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Null when the content is not a summary.</summary>
    public static WalSegmentSummary? TryRead(byte[] content)
    {
        var lines = Encoding.UTF8.GetString(content).Split('\n');
        if (lines.Length == 0 || lines[0] != Magic)
        {
            return null;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var space = line.IndexOf(' ');
            if (space > 0)
            {
                values[line[..space]] = line[(space + 1)..];
            }
        }

        if (!values.TryGetValue("last-xact-time", out var xact) || !TryTime(xact, out var xactTime)
            || !values.TryGetValue("last-xact-lsn", out var lsnText)
            || !values.TryGetValue("last-restore-point-time", out var point) || !TryTime(point, out var pointTime))
        {
            return null;
        }

        Lsn? lsn = null;
        if (lsnText != "-")
        {
            if (!Lsn.TryParse(lsnText, out var parsed))
            {
                return null;
            }

            lsn = parsed;
        }

        var records = values.TryGetValue("records", out var r) && int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new WalSegmentSummary(xactTime, lsn, pointTime, records);
    }

    private static string Micros(DateTimeOffset? t)
        => t is { } v ? ((v.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10).ToString(CultureInfo.InvariantCulture) : "-";

    private static bool TryTime(string text, out DateTimeOffset? time)
    {
        time = null;
        if (text == "-")
        {
            return true;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros))
        {
            return false;
        }

        time = DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
        return true;
    }
}
