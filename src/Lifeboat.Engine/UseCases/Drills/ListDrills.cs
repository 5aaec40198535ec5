using System.Globalization;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Drills;

namespace Lifeboat.Engine.UseCases.Drills;

/// <param name="Source">Only drills of this source.</param>
/// <param name="Limit">At most this many per page (1–1000), newest first.</param>
/// <param name="Cursor">The <c>next</c> of the previous page.</param>
public sealed record ListDrillsRequest(string? Source = null, int Limit = 50, string? Cursor = null);

/// <summary>A drill as the catalog keeps it, without its report (<c>GET /api/v1/drills/{id}</c> has that).</summary>
/// <param name="Result">passed, failed or cancelled.</param>
/// <param name="Restorable">The restore, the recovery and the integrity checks passed, whatever the objectives.</param>
public sealed record DrillView(
    string Id, string Source, string Kind, string? BackupId, DateTimeOffset Started, DateTimeOffset Finished, string Result, bool Restorable,
    string? Target, DateTimeOffset? PointReached, double? RtoSeconds, double? RtoObjectiveSeconds, bool RtoViolated,
    double? RpoSeconds, double? RpoObjectiveSeconds, bool RpoViolated, int ChecksPassed, int ChecksFailed, string Summary)
{
    public static DrillView From(DrillRecord d) => new(
        d.Id, d.Source, d.Kind, d.BackupId, d.Started, d.Finished, d.Result, d.Restorable, d.Target, d.PointReached,
        d.RtoMs / 1000.0, d.RtoObjectiveMs / 1000.0, d.RtoViolated, d.RpoMs / 1000.0, d.RpoObjectiveMs / 1000.0, d.RpoViolated,
        d.ChecksPassed, d.ChecksFailed, d.Summary);
}

/// <summary><c>GET /api/v1/drills</c>: the catalog's drills, newest first, filtered by source, paged with a cursor.</summary>
public sealed class ListDrills : IUseCase<ListDrillsRequest, Page<DrillView>>
{
    private readonly CatalogAccess _catalog;

    public ListDrills(CatalogAccess catalog) => _catalog = catalog;

    public async Task<Page<DrillView>> ExecuteAsync(ListDrillsRequest request, CancellationToken cancellationToken)
    {
        var limit = Cursor.Limit(request.Limit);
        (DateTimeOffset, string)? before = null;
        if (request.Cursor is { } c)
        {
            var parts = Cursor.Decode(c, 2);
            before = (DateTimeOffset.Parse(parts[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind), parts[1]);
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var drills = await catalog.DrillsPageAsync(request.Source, limit + 1, before, cancellationToken);
        var page = drills.Take(limit).Select(DrillView.From).ToList();
        var next = drills.Count > limit ? Cursor.Encode(page[^1].Started.ToString("O", CultureInfo.InvariantCulture), page[^1].Id) : null;
        return new Page<DrillView>(page, next);
    }
}

public sealed record ShowDrillRequest(string Id);

/// <summary><c>GET /api/v1/drills/{id}</c>: a drill's stored report (the <see cref="DrillDocument"/>, docs/drills.md).</summary>
public sealed class ShowDrill : IUseCase<ShowDrillRequest, DrillDocument>
{
    private readonly CatalogAccess _catalog;

    public ShowDrill(CatalogAccess catalog) => _catalog = catalog;

    public async Task<DrillDocument> ExecuteAsync(ShowDrillRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        var drill = await catalog.DrillAsync(request.Id, cancellationToken)
            ?? throw new LifeboatException(ErrorCode.NotFound, $"there is no drill '{request.Id}' in the catalog", "`GET /api/v1/drills` lists the drills");
        try
        {
            return JsonSerializer.Deserialize(drill.ReportJson, LifeboatJson.Default.DrillDocument)
                ?? throw new JsonException("the report is empty");
        }
        catch (JsonException ex)
        {
            throw new LifeboatException(ErrorCode.Failed, $"the stored report of drill '{request.Id}' cannot be read: {ex.Message}", "run the drill again; `lifeboat catalog rebuild` does not restore drill reports");
        }
    }
}
