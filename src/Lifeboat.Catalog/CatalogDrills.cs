namespace Lifeboat.Catalog;

public sealed partial class LifeboatCatalog
{
    /// <summary>One drill by id, or null.</summary>
    public async Task<DrillRecord?> DrillAsync(string id, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {DrillColumns} FROM drills WHERE tenant = @tenant AND id = @id", cancellationToken, ("tenant", Tenant), ("id", id));
        return await r.ReadAsync(cancellationToken) ? ReadDrill(r) : null;
    }

    /// <summary>
    /// A page of drills, newest first (by start time, then id): those of <paramref name="source"/> (null: all) that
    /// started before <paramref name="before"/> (the last of the previous page).
    /// </summary>
    public async Task<List<DrillRecord>> DrillsPageAsync(string? source, int limit, (DateTimeOffset Started, string Id)? before, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = $"""
            SELECT {DrillColumns} FROM drills
            WHERE tenant = @tenant AND (CAST(@source AS TEXT) IS NULL OR source = @source)
              AND (CAST(@started AS TEXT) IS NULL OR started < @started OR (started = @started AND id < @id))
            ORDER BY started DESC, id DESC LIMIT @limit
            """;
        var result = new List<DrillRecord>();
        await using var r = await ReaderAsync(c, sql, cancellationToken, ("tenant", Tenant), ("source", source), ("started", before is { } b ? Iso(b.Started) : null), ("id", before?.Id), ("limit", limit));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadDrill(r));
        }

        return result;
    }
}
