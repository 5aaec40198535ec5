using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <summary>An event as the API, the CLI's --json, the live stream and webhooks show it (docs/events.md).</summary>
public sealed record EventView(string Id, string Type, DateTimeOffset Time, string Tenant, string? Source, string Severity, string CorrelationId, JsonElement Data)
{
    public static EventView From(EventRecord r)
    {
        using var data = JsonDocument.Parse(r.Data);
        return new(r.Id, r.Type, r.Time, r.Tenant, r.Source, r.Severity, r.CorrelationId, data.RootElement.Clone());
    }

    /// <summary>The event as one line of JSON: the body a webhook receives, signed as sent.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LifeboatJson.Compact.EventView);
}

/// <summary>
/// Type patterns (<c>backup.*</c>, <c>*.failed</c>, <c>*</c>): what lists, the live stream, webhooks and routing rules
/// match event types with. <c>*</c> matches any run of characters (dots included); everything else is literal.
/// </summary>
public static class EventPatterns
{
    /// <summary>The patterns of a comma-separated list, checked; empty for null or blank.</summary>
    public static IReadOnlyList<string> Parse(string? text, string field)
        => string.IsNullOrWhiteSpace(text) ? [] : Check(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), field);

    /// <summary>Checks each pattern: lowercase letters, digits, '.', '_', '-' and '*'.</summary>
    public static IReadOnlyList<string> Check(IEnumerable<string> patterns, string field)
    {
        var list = patterns.Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        foreach (var p in list)
        {
            if (p.Length > 100 || !p.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '*'))
            {
                throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{p}' is not an event type pattern", "write an event type (backup.failed) or a pattern with * (backup.*, *.failed, *); docs/events.md lists the types");
            }
        }

        return list;
    }

    public static bool Matches(string pattern, string type)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return pattern == type;
        }

        var parts = pattern.Split('*');
        if (!type.StartsWith(parts[0], StringComparison.Ordinal) || !type.EndsWith(parts[^1], StringComparison.Ordinal) || type.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var at = parts[0].Length;
        for (var i = 1; i < parts.Length - 1; i++)
        {
            var found = type.IndexOf(parts[i], at, StringComparison.Ordinal);
            if (found < 0 || found + parts[i].Length > type.Length - parts[^1].Length)
            {
                return false;
            }

            at = found + parts[i].Length;
        }

        return true;
    }

    public static bool MatchesAny(IReadOnlyList<string> patterns, string type) => patterns.Count == 0 || patterns.Any(p => Matches(p, type));
}

/// <summary>Times in filters: an ISO 8601 time (or PostgreSQL's form), or a duration back from now (24h, 7d).</summary>
public static class FilterTimes
{
    public static DateTimeOffset? Parse(string? text, string field, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (Duration.TryParse(text, out var ago))
        {
            return now - ago;
        }

        if (TimeParsing.TryParse(text, out var time))
        {
            return time;
        }

        throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{text}' is neither a time nor a duration", "write a time with an offset (2026-11-22T14:03:00Z) or how long ago (24h, 7d)");
    }

    public static EventSeverity? Severity(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return EventRecords.ParseSeverity(text) ?? throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{text}' is not a severity", "the severities are info, warning, error and critical; the filter keeps that severity and worse");
    }
}
