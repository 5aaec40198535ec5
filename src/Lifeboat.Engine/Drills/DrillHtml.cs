using System.Globalization;
using System.Net;
using System.Text;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// The drill report as one self-contained HTML page (inline CSS, no scripts, no external resources): it can be mailed,
/// archived and opened offline years later. Every value is HTML-encoded.
/// </summary>
public static class DrillHtml
{
    private const string Css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;margin:2rem auto;max-width:1000px;padding:0 1rem}
        h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.1rem;margin-top:1.8rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
        .verdict{display:inline-block;padding:.25rem .8rem;border-radius:4px;font-weight:700;color:#fff}
        .passed{background:#1a7f37}.failed{background:#cf222e}.cancelled{background:#9a6700}
        table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
        th{background:#f6f8fa;font-weight:600}td.k{width:14rem;color:#57606a}
        .st-passed{color:#1a7f37;font-weight:700}.st-failed{color:#cf222e;font-weight:700}.st-skipped{color:#57606a}.st-info{color:#0969da}
        pre{white-space:pre-wrap;margin:0;font:12px/1.4 ui-monospace,monospace}
        .bar{display:flex;height:1.4rem;border-radius:3px;overflow:hidden;margin:.5rem 0}.bar div{color:#fff;font-size:12px;padding:0 .4rem;white-space:nowrap;overflow:hidden}
        .b1{background:#0969da}.b2{background:#8250df}.b3{background:#1a7f37}
        .muted{color:#57606a}.bad{color:#cf222e;font-weight:700}
        footer{margin-top:2rem;color:#57606a;font-size:12px}
        """;

    public static string Render(DrillReport r)
    {
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E($"Lifeboat drill {r.Id} of {r.Source}: {r.Result}"))
            .Append("</title><style>").Append(Css).Append("</style></head><body>\n");
        h.Append("<p class=\"muted\">Lifeboat restore drill</p><h1>").Append(E($"Source '{r.Source}' ({r.Kind})")).Append("</h1>\n");
        h.Append("<p><span class=\"verdict ").Append(r.Result).Append("\">").Append(E(r.Result.ToUpperInvariant())).Append("</span> ")
            .Append(r.Restorable ? "the point reached is <b>proven restorable</b>" : "<b>not</b> proven restorable").Append("</p>\n");
        h.Append("<p>").Append(E(r.Summary)).Append("</p>\n");

        h.Append("<h2>What was restored</h2><table>");
        Row(h, "Drill", r.Id);
        Row(h, "Started – finished", $"{DrillReport.Time(r.Started)} – {DrillReport.Time(r.Finished)}");
        Row(h, "Repository", $"{r.Repository} (id {r.RepositoryId})");
        Row(h, "Backup", r.BackupId is null ? "none" : $"{r.BackupId} ({r.Backup?.Type}, finished {(r.Backup is { } b ? DrillReport.Time(b.Finished) : "?")}, {Lifeboat.Core.ByteSize.Format(r.Backup?.Bytes ?? 0)})");
        Row(h, "Requested", r.Requested);
        Row(h, "Recovered to", r.TargetDescription ?? "");
        Row(h, "Point reached", (r.PointReached is { } p ? DrillReport.Time(p) : "—") + (r.PointLsn is null ? "" : $", LSN {r.PointLsn}") + (r.Timeline is null ? "" : $", promoted to timeline {r.Timeline}"));
        Row(h, "Scratch copy", $"{r.ScratchDirectory}{(r.ScratchPort is { } port ? $", port {port} (Unix socket only)" : "")}; removed after the drill");
        Row(h, "Priority", r.Priority ?? "normal");
        Row(h, "Versions", $"Lifeboat {DrillReport.LifeboatVersion}{(r.PostgresVersion is null ? "" : $"; scratch server: {r.PostgresVersion}")}{(r.BackupServerVersion is null ? "" : $"; backed-up server: PostgreSQL {r.BackupServerVersion}")}");
        Row(h, "Host", $"{Environment.MachineName} ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}), user {Environment.UserName}");
        h.Append("</table>\n");

        h.Append("<h2>Recovery time and recovery point</h2>");
        var phases = new[] { ("restore", r.RestoreTime, "b1"), ("recovery", r.RecoveryTime, "b2"), ("checks", r.ChecksTime, "b3") };
        var total = phases.Sum(x => x.Item2?.TotalSeconds ?? 0);
        if (total > 0)
        {
            h.Append("<div class=\"bar\">");
            foreach (var (name, t, css) in phases.Where(x => x.Item2 is { TotalSeconds: > 0 }))
            {
                var share = (t!.Value.TotalSeconds / total * 100).ToString("0.##", CultureInfo.InvariantCulture);
                h.Append("<div class=\"").Append(css).Append("\" style=\"width:").Append(share).Append("%\">").Append(E($"{name} {DrillReport.Seconds(t.Value)}")).Append("</div>");
            }

            h.Append("</div>");
        }

        h.Append("<table>");
        Row(h, "Restore", Fmt(r.RestoreTime));
        Row(h, "Recovery (start, WAL replay, promotion)", Fmt(r.RecoveryTime));
        Row(h, "Checks", Fmt(r.ChecksTime));
        RowHtml(h, "RTO (restore + recovery + checks)", E(Fmt(r.Rto)) + Objective(r.RtoObjective, r.Rto is not null, r.RtoViolated));
        RowHtml(h, "RPO", E(Fmt(r.Rpo)) + (r.RpoJudged ? Objective(r.RpoObjective, r.Rpo is not null, r.RpoViolated) : " <span class=\"muted\">(not judged: the drill did not recover to the end of the archive)</span>")
            + (r.RpoBasis is null ? "" : "<br><span class=\"muted\">" + E(r.RpoBasis) + "</span>"));
        h.Append("</table>\n");

        h.Append("<h2>Checks</h2><table><tr><th>check</th><th>result</th><th>detail</th><th>time</th></tr>");
        foreach (var c in r.Checks)
        {
            var status = c.Status.ToString().ToLowerInvariant();
            h.Append("<tr><td>").Append(E(c.Name)).Append("</td><td class=\"st-").Append(status).Append("\">").Append(status)
                .Append("</td><td><pre>").Append(E(c.Detail)).Append("</pre></td><td>").Append(c.Elapsed is { } t ? E(DrillReport.Seconds(t)) : "").Append("</td></tr>");
        }

        h.Append("</table>\n");
        if (r.DamagedObjects.Count > 0)
        {
            h.Append("<h2>Damage found in the repository</h2><ul>");
            foreach (var o in r.DamagedObjects)
            {
                h.Append("<li>").Append(E(o)).Append("</li>");
            }

            h.Append("</ul><p>Affected backups: ").Append(E(string.Join(", ", r.AffectedBackups))).Append("</p>\n");
        }

        if (r.RowCounts.Count > 0)
        {
            h.Append("<h2>Row counts</h2><p class=\"muted\">").Append(r.RowCountsExact
                ? "Exact comparison: the copy was recovered to the WAL position at which the counts were taken during the backup."
                : "For information: the copy was recovered to another point than the one the counts describe.").Append("</p>");
            h.Append("<table><tr><th>table</th><th>recorded at backup</th><th>restored</th><th></th></tr>");
            foreach (var c in r.RowCounts)
            {
                h.Append("<tr><td>").Append(E($"{c.Schema}.{c.Table}")).Append("</td><td>").Append(c.Recorded.ToString("N0", CultureInfo.InvariantCulture))
                    .Append("</td><td>").Append(c.Restored is { } n ? n.ToString("N0", CultureInfo.InvariantCulture) : "missing").Append("</td><td>")
                    .Append(c.Match ? "=" : r.RowCountsExact ? "<span class=\"bad\">differs</span>" : "differs").Append("</td></tr>");
            }

            h.Append("</table>\n");
        }

        if (r.Notes.Count > 0)
        {
            h.Append("<h2>Notes</h2><ul>");
            foreach (var n in r.Notes)
            {
                h.Append("<li>").Append(E(n)).Append("</li>");
            }

            h.Append("</ul>\n");
        }

        h.Append("<footer>Generated by Lifeboat ").Append(E(DrillReport.LifeboatVersion)).Append(" on ").Append(E(DrillReport.Time(r.Finished)))
            .Append(". The JSON document next to this page holds the same evidence for machines").Append(r.JsonPath is null ? "" : " (" + E(Path.GetFileName(r.JsonPath)) + ")")
            .Append("; the catalog keeps a copy.</footer>\n</body></html>\n");
        return h.ToString();
    }

    private static string Objective(TimeSpan? objective, bool measured, bool violated)
        => objective is not { } o ? " <span class=\"muted\">(no objective set)</span>"
            : !measured ? E($" (objective {DrillReport.Seconds(o)}; not measured)")
            : violated ? $" <span class=\"bad\">VIOLATED: objective {E(DrillReport.Seconds(o))}</span>"
            : E($" (objective {DrillReport.Seconds(o)}: met)");

    private static string Fmt(TimeSpan? t) => t is { } v ? DrillReport.Seconds(v) : "—";

    private static void Row(StringBuilder h, string key, string value) => RowHtml(h, key, E(value));

    private static void RowHtml(StringBuilder h, string key, string html) => h.Append("<tr><td class=\"k\">").Append(E(key)).Append("</td><td>").Append(html).Append("</td></tr>");

    private static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
}
