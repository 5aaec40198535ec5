using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lifeboat.Catalog;

namespace Lifeboat.Engine.Notifications;

/// <summary>A notification as people read it: a subject (a chat message's title), a text body and an HTML body.</summary>
public sealed record NotificationMessage(string Subject, string Title, string Summary, string Text, string Html);

/// <summary>
/// Renders notifications from templates: built in, or files in <c>templates/</c> next to the configuration file —
/// <c>TYPE.subject</c>, <c>TYPE.txt</c>, <c>TYPE.html</c> for one event type (<c>backup.failed.txt</c>), else
/// <c>default.subject</c>, <c>default.txt</c>, <c>default.html</c>. A template's <c>{{name}}</c> are replaced by the
/// values below (HTML-escaped in .html): <c>title</c>, <c>summary</c>, <c>kind</c> (alert, reminder, resolved,
/// event, test), <c>type</c>, <c>severity</c>, <c>source</c>, <c>time</c>, <c>tenant</c>, <c>correlationId</c>,
/// <c>id</c>, <c>incident</c>, <c>openedType</c>, <c>opened</c>, <c>suppressed</c>, <c>details</c> (every data field, one a line), and
/// <c>data.FIELD</c> for each field of the event's data. The data is the event's: never a secret.
/// </summary>
public static partial class Messages
{
    public static NotificationMessage Render(EventRecord e, NotificationDetail detail, string? templatesDirectory)
    {
        var values = Values(e, detail);
        string Template(string extension, string builtIn)
        {
            foreach (var name in new[] { e.Type, "default" })
            {
                var path = templatesDirectory is null ? null : Path.Combine(templatesDirectory, $"{name}.{extension}");
                if (path is not null && File.Exists(path))
                {
                    return File.ReadAllText(path);
                }
            }

            return builtIn;
        }

        var subject = Fill(Template("subject", "[Lifeboat] {{title}}"), values, html: false).ReplaceLineEndings(" ").Trim();
        return new NotificationMessage(subject, values["title"], values["summary"], Fill(Template("txt", TextTemplate), values, html: false), Fill(Template("html", HtmlTemplate), values, html: true));
    }

    private const string TextTemplate = """
        {{title}}

        {{summary}}

        Event:        {{type}} ({{severity}})
        Source:       {{source}}
        Time:         {{time}}
        Tenant:       {{tenant}}
        Correlation:  {{correlationId}}
        Event id:     {{id}}
        {{incidentLine}}
        Details:
        {{details}}

        -- Lifeboat (`lifeboat events list --correlation {{correlationId}}` shows what happened)
        """;

    private const string HtmlTemplate = """
        <!DOCTYPE html>
        <html><body style="font-family: sans-serif">
        <h2>{{title}}</h2>
        <p>{{summary}}</p>
        <table cellpadding="4">
        <tr><th align="left">Event</th><td>{{type}} ({{severity}})</td></tr>
        <tr><th align="left">Source</th><td>{{source}}</td></tr>
        <tr><th align="left">Time</th><td>{{time}}</td></tr>
        <tr><th align="left">Tenant</th><td>{{tenant}}</td></tr>
        <tr><th align="left">Correlation</th><td>{{correlationId}}</td></tr>
        <tr><th align="left">Event id</th><td>{{id}}</td></tr>
        </table>
        <p>{{incidentLine}}</p>
        <pre>{{details}}</pre>
        <p>— Lifeboat</p>
        </body></html>
        """;

    private static Dictionary<string, string> Values(EventRecord e, NotificationDetail detail)
    {
        using var data = JsonDocument.Parse(e.Data);
        var fields = new List<(string Key, string Value)>();
        if (data.RootElement.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in data.RootElement.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null))
            {
                fields.Add((p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()));
            }
        }

        string Field(string key) => fields.FirstOrDefault(f => f.Key == key).Value ?? "";
        var where = e.Source is null ? "the workspace" : $"'{e.Source}'";
        var summary = Summary(e, Field);
        var title = detail.Kind switch
        {
            "alert" => $"{e.Type} on {where}: {summary}",
            "reminder" => $"still {detail.OpenedType} on {where} ({detail.Suppressed} more since the last message): {summary}",
            "resolved" => $"RESOLVED {detail.OpenedType} on {where}: {summary}",
            "test" => "test message: this channel receives Lifeboat's alerts",
            _ => $"{e.Type} on {where}: {summary}",
        };
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["title"] = title,
            ["summary"] = summary,
            ["kind"] = detail.Kind,
            ["type"] = e.Type,
            ["severity"] = e.Severity,
            ["source"] = e.Source ?? "-",
            ["time"] = e.Time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["tenant"] = e.Tenant,
            ["correlationId"] = e.CorrelationId,
            ["id"] = e.Id,
            ["incident"] = detail.Incident ?? "",
            ["openedType"] = detail.OpenedType ?? "",
            ["opened"] = detail.Opened?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "",
            ["suppressed"] = detail.Suppressed.ToString(CultureInfo.InvariantCulture),
            ["details"] = string.Join('\n', fields.Select(f => $"  {f.Key}: {f.Value}")),
            ["incidentLine"] = detail.Kind switch
            {
                "alert" => "This opens an incident: repeats are held back for the quiet period, and a message follows when it is resolved.",
                "reminder" => $"The incident opened at {detail.Opened:u} by {detail.OpenedType} is still open; {detail.Suppressed} repeat(s) were held back.",
                "resolved" => $"The incident opened at {detail.Opened:u} by {detail.OpenedType} is resolved.",
                _ => "",
            },
        };
        foreach (var (key, value) in fields)
        {
            values["data." + key] = value;
        }

        return values;
    }

    /// <summary>One sentence for people: what happened.</summary>
    private static string Summary(EventRecord e, Func<string, string> field)
    {
        var status = field("status");
        if (field("operation") is { Length: > 0 } operation && field("runId").Length > 0)
        {
            var of = field("source") is { Length: > 0 } s ? $" of '{s}'" : "";
            var to = field("target") is { Length: > 0 } t ? $" on target {t}" : "";
            var verb = status switch { "running" => "started", "succeeded" => operation == "drill" ? "passed" : "completed", _ => status };
            var error = field("error") is { Length: > 0 } err ? ": " + err : "";
            var backup = field("backupId") is { Length: > 0 } b && status == "succeeded" ? $" (backup {b})" : "";
            return $"{operation.Replace('_', ' ')}{of}{to} {verb}{backup}{error}";
        }

        return e.Type switch
        {
            "wal.archive_failed" => $"WAL file {field("file")} was not archived in target {field("target")}: {field("error")}",
            "verify.damage_found" => $"verify found {field("damaged")} damaged object(s); affected backups: {field("affectedBackups")}",
            _ when field("check").Length > 0 => $"{field("check")}: {field("detail")}",
            _ => field("detail") is { Length: > 0 } d ? $"{e.Type}: {d}" : e.Type,
        };
    }

    private static string Fill(string template, Dictionary<string, string> values, bool html)
        => Placeholder().Replace(template, m => values.TryGetValue(m.Groups[1].Value, out var v) ? (html ? WebUtility.HtmlEncode(v) : v) : "");

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();

    /// <summary>Where template files are: templates/ next to the configuration file.</summary>
    public static string TemplatesDirectory(string configPath) => Path.Combine(Path.GetDirectoryName(configPath) ?? ".", "templates");
}
