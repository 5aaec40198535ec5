using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.EventLog;

/// <param name="Type">Event types or patterns, comma-separated (backup.failed, drill.*).</param>
/// <param name="Source">Only events about this source.</param>
/// <param name="Severity">This severity and worse: info, warning, error, critical.</param>
/// <param name="Since">Events at or after this time, or this long ago (24h, 7d).</param>
/// <param name="Until">Events before this time (same forms).</param>
/// <param name="Correlation">Only the events of this call or run (its correlation id).</param>
/// <param name="Limit">At most this many, newest first (1–1000).</param>
/// <param name="Cursor">The <c>next</c> of the previous page.</param>
public sealed record ListEventsRequest(string? Type = null, string? Source = null, string? Severity = null, string? Since = null, string? Until = null, string? Correlation = null, int Limit = 100, string? Cursor = null);

/// <summary>`events list`, <c>GET /api/v1/events</c>: the tenant's event log, newest first, filtered, a page at a time.</summary>
public sealed class ListEvents : IUseCase<ListEventsRequest, Page<EventView>>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public ListEvents(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public async Task<Page<EventView>> ExecuteAsync(ListEventsRequest request, CancellationToken cancellationToken)
    {
        var limit = Cursor.Limit(request.Limit);
        var now = _time.GetUtcNow();
        (DateTimeOffset, string)? before = null;
        if (request.Cursor is { } cursor)
        {
            var parts = Cursor.Decode(cursor, 2);
            before = (DateTimeOffset.TryParseExact(parts[0], "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
                ? t
                : throw new LifeboatException(ErrorCode.Usage, $"«cursor» '{cursor}' is not a cursor of this list", "pass the `next` value of the previous page unchanged, or leave it out for the first page"), parts[1]);
        }

        var query = new EventQuery(
            _workspace.Name,
            EventPatterns.Parse(request.Type, "type"),
            string.IsNullOrWhiteSpace(request.Source) ? null : request.Source.Trim(),
            FilterTimes.Severity(request.Severity, "severity") is { } s ? (int)s : null,
            FilterTimes.Parse(request.Since, "since", now),
            FilterTimes.Parse(request.Until, "until", now),
            string.IsNullOrWhiteSpace(request.Correlation) ? null : request.Correlation.Trim(),
            limit + 1,
            before);
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var records = await catalog.EventsAsync(query, cancellationToken);
        var page = records.Take(limit).ToList();
        var next = records.Count > limit ? Cursor.Encode(page[^1].Time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture), page[^1].Id) : null;
        return new Page<EventView>(page.Select(EventView.From).ToList(), next);
    }
}
