namespace Lifeboat.Catalog;

/// <summary>A page of the catalog's backups: filters, and where the previous page ended (its last finish time and id).</summary>
public sealed record BackupQuery(string? Source, string? Kind, DateTimeOffset? Since, DateTimeOffset? Until, (DateTimeOffset Finished, string Id)? After, int Limit);

// ---- backups, a page at a time (the API's lists: filtered and paged in SQL, newest first)
public sealed partial class LifeboatCatalog
{
    /// <summary>
    /// Backups newest first (finish time, then id), filtered and cut in SQL: a page costs the same with ten backups or
    /// a hundred thousand (index <c>backups_finished</c>). Times are ISO 8601 UTC text of one width, so they compare
    /// as text in both SQLite and PostgreSQL.
    /// </summary>
    public async Task<List<BackupRecord>> BackupsPageAsync(BackupQuery query, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"""
            SELECT {BackupColumns} FROM backups
            WHERE tenant = @tenant AND (CAST(@source AS TEXT) IS NULL OR source = @source)
              AND (CAST(@kind AS TEXT) IS NULL OR kind = @kind)
              AND (CAST(@since AS TEXT) IS NULL OR finished >= @since)
              AND (CAST(@until AS TEXT) IS NULL OR finished < @until)
              AND (CAST(@afterFinished AS TEXT) IS NULL OR finished < @afterFinished OR (finished = @afterFinished AND id < @afterId))
            ORDER BY finished DESC, id DESC
            LIMIT @limit
            """,
            cancellationToken,
            ("tenant", Tenant),
            ("source", query.Source),
            ("kind", query.Kind),
            ("since", query.Since is { } s ? Iso(s) : null),
            ("until", query.Until is { } u ? Iso(u) : null),
            ("afterFinished", query.After is { } a ? Iso(a.Finished) : null),
            ("afterId", query.After?.Id),
            ("limit", query.Limit));
        var result = new List<BackupRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadBackup(r));
        }

        return result;
    }
}
