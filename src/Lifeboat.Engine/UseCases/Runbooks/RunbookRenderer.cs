using System.Globalization;
using System.Net;
using System.Text;

namespace Lifeboat.Engine.UseCases.Runbooks;

/// <summary>A runbook as one Markdown document or one self-contained HTML page (no scripts, no external resources).</summary>
public static class RunbookRenderer
{
    public static string Markdown(Runbook r)
    {
        var md = new StringBuilder();
        md.Append("# Recovery runbook: ").Append(r.Host).Append(r.Stack is null ? "" : $", stack {r.Stack}").Append('\n').Append('\n');
        md.Append("Written by `lifeboat runbook` on ").Append(Time(r.Generated)).Append(" from this installation as it was then; write it again after every change (and keep a copy off this host).\n\n");
        if (r.Warnings.Count > 0)
        {
            md.Append("## Warnings\n\n");
            foreach (var w in r.Warnings)
            {
                md.Append("- **").Append(w).Append("**\n");
            }

            md.Append('\n');
        }

        md.Append("## This installation\n\n");
        md.Append("- Configuration: `").Append(r.ConfigPath).Append("`; every command below starts with `").Append(r.Command).Append("`\n");
        md.Append("- Repository: `").Append(r.Repository).Append("`\n");
        foreach (var t in r.Targets)
        {
            md.Append("- Target `").Append(t.Name).Append("`: `").Append(t.Url).Append('`').Append(t.OnThisHost ? " (on this host)" : "").Append('\n');
        }

        md.Append("- Key: ").Append(r.Keys.Configured).Append('\n');
        foreach (var slot in r.Keys.Slots ?? [])
        {
            md.Append("  - slot `").Append(slot.Id).Append("` (").Append(slot.Kind).Append(", made ").Append(Time(slot.Created)).Append(" on ").Append(slot.Host ?? "?")
                .Append(slot.Label is null ? "" : $", label {slot.Label}").Append(slot.UsedHere ? ", the one this host uses" : "").Append(")\n");
        }

        md.Append("\n| source | kind | where | newest backup | recoverable | last proven by a drill | measured RTO |\n|---|---|---|---|---|---|---|\n");
        foreach (var s in r.Sources)
        {
            md.Append("| ").Append(s.Name).Append(" | ").Append(s.Kind).Append(" | ").Append(Cell(s.Where)).Append(" | ")
                .Append(s.LatestBackup is null ? "none" : $"{s.LatestBackup} ({Time(s.LatestBackupAt)})").Append(" | ")
                .Append(s.Kind == "cluster" ? Cell(RunbookScenarios.Window(s)) : s.LatestBackupAt is null ? "nothing" : $"the backups, newest {Time(s.LatestBackupAt)}").Append(" | ")
                .Append(s.LastProvenDrill is null ? "never" : $"{Time(s.LastProvenPoint)} (drill {s.LastProvenDrill}, {Time(s.LastProvenAt)})").Append(" | ")
                .Append(Rto(s)).Append(" |\n");
        }

        md.Append('\n');
        foreach (var scenario in r.Scenarios)
        {
            md.Append("## ").Append(scenario.Title).Append("\n\n").Append("When: ").Append(scenario.When).Append("\n\n");
            var n = 0;
            foreach (var step in scenario.Steps)
            {
                if (step.Text.Length > 0)
                {
                    md.Append((++n).ToString(CultureInfo.InvariantCulture)).Append(". ").Append(step.Text).Append('\n');
                }

                if (step.Commands.Count > 0)
                {
                    md.Append("\n```sh\n");
                    foreach (var command in step.Commands)
                    {
                        md.Append(command).Append('\n');
                    }

                    md.Append("```\n\n");
                }
            }

            md.Append("\nAfterwards, check:\n\n");
            foreach (var check in scenario.Checks)
            {
                md.Append("- [ ] ").Append(check).Append('\n');
            }

            md.Append('\n');
        }

        return md.ToString();
    }

    public static string Html(Runbook r)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var h = new StringBuilder();
        h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Recovery runbook: ").Append(E(r.Host)).Append("</title>\n")
            .Append("<style>body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;padding:0 1em}pre{background:#f4f4f4;padding:.6em;overflow-x:auto}")
            .Append(".warn{background:#fff3cd;border-left:4px solid #c90;padding:.5em 1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left}</style></head><body>\n");
        h.Append("<h1>Recovery runbook: ").Append(E(r.Host)).Append(r.Stack is null ? "" : E($", stack {r.Stack}")).Append("</h1>\n");
        h.Append("<p>Written by <code>lifeboat runbook</code> on ").Append(E(Time(r.Generated))).Append(" from this installation as it was then; write it again after every change (and keep a copy off this host).</p>\n");
        if (r.Warnings.Count > 0)
        {
            h.Append("<div class=\"warn\"><h2>Warnings</h2><ul>");
            foreach (var w in r.Warnings)
            {
                h.Append("<li>").Append(E(w)).Append("</li>");
            }

            h.Append("</ul></div>\n");
        }

        h.Append("<h2>This installation</h2><ul><li>Configuration: <code>").Append(E(r.ConfigPath)).Append("</code>; every command below starts with <code>").Append(E(r.Command)).Append("</code></li>");
        h.Append("<li>Repository: <code>").Append(E(r.Repository)).Append("</code></li>");
        foreach (var t in r.Targets)
        {
            h.Append("<li>Target <code>").Append(E(t.Name)).Append("</code>: <code>").Append(E(t.Url)).Append("</code>").Append(t.OnThisHost ? " (on this host)" : "").Append("</li>");
        }

        h.Append("<li>Key: ").Append(E(r.Keys.Configured)).Append(" (").Append(r.Keys.Slots is null ? "key slots unknown" : $"{r.Keys.Slots.Count} key slot(s)").Append(")</li></ul>\n");
        h.Append("<table><tr><th>source</th><th>kind</th><th>where</th><th>newest backup</th><th>recoverable</th><th>last proven by a drill</th><th>measured RTO</th></tr>\n");
        foreach (var s in r.Sources)
        {
            h.Append("<tr><td>").Append(E(s.Name)).Append("</td><td>").Append(E(s.Kind)).Append("</td><td>").Append(E(s.Where)).Append("</td><td>")
                .Append(E(s.LatestBackup is null ? "none" : $"{s.LatestBackup} ({Time(s.LatestBackupAt)})")).Append("</td><td>")
                .Append(E(s.Kind == "cluster" ? RunbookScenarios.Window(s) : s.LatestBackupAt is null ? "nothing" : $"the backups, newest {Time(s.LatestBackupAt)}")).Append("</td><td>")
                .Append(E(s.LastProvenDrill is null ? "never" : $"{Time(s.LastProvenPoint)} (drill {s.LastProvenDrill}, {Time(s.LastProvenAt)})")).Append("</td><td>")
                .Append(E(Rto(s))).Append("</td></tr>\n");
        }

        h.Append("</table>\n");
        foreach (var scenario in r.Scenarios)
        {
            h.Append("<h2 id=\"").Append(E(scenario.Id)).Append("\">").Append(E(scenario.Title)).Append("</h2>\n<p>When: ").Append(E(scenario.When)).Append("</p>\n<ol>");
            foreach (var step in scenario.Steps)
            {
                h.Append("<li>").Append(E(step.Text));
                if (step.Commands.Count > 0)
                {
                    h.Append("<pre><code>").Append(E(string.Join('\n', step.Commands))).Append("</code></pre>");
                }

                h.Append("</li>");
            }

            h.Append("</ol>\n<p>Afterwards, check:</p><ul>");
            foreach (var check in scenario.Checks)
            {
                h.Append("<li>").Append(E(check)).Append("</li>");
            }

            h.Append("</ul>\n");
        }

        return h.Append("</body></html>\n").ToString();
    }

    private static string Rto(RunbookSource s)
        => s.MeasuredRtoSeconds is { } rto
            ? $"{rto.ToString("0.0", CultureInfo.InvariantCulture)} s" + (s.RtoObjectiveSeconds is { } o ? $" (objective {o.ToString("0", CultureInfo.InvariantCulture)} s)" : "")
            : "not measured";

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Time(DateTimeOffset? t) => RunbookScenarios.Time(t);
}
