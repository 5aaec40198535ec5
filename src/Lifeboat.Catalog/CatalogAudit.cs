namespace Lifeboat.Catalog;

/// <summary>The audit trail: appended to, read newest first with a (time, id) cursor; never updated nor deleted.</summary>
public sealed partial class LifeboatCatalog
{
    public async Task AppendAuditAsync(AuditRecord entry, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, """
            INSERT INTO audit (id, time, tenant, actor_kind, actor, token_id, role, remote_address, action, target, parameters, result, status, correlation_id)
            VALUES (@id, @time, @tenant, @kind, @actor, @token, @role, @remote, @action, @target, @parameters, @result, @status, @correlation)
            """, cancellationToken, null,
            ("id", entry.Id), ("time", Iso(entry.Time)), ("tenant", entry.Tenant), ("kind", entry.ActorKind), ("actor", entry.Actor), ("token", entry.TokenId),
            ("role", entry.Role), ("remote", entry.RemoteAddress), ("action", entry.Action), ("target", entry.Target), ("parameters", entry.Parameters),
            ("result", entry.Result), ("status", (long)entry.Status), ("correlation", entry.CorrelationId));
    }

    /// <summary>The entries <paramref name="query"/> asks for, newest first (ties by id, descending).</summary>
    public async Task<List<AuditRecord>> AuditAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var sql = """
            SELECT id, time, tenant, actor_kind, actor, token_id, role, remote_address, action, target, parameters, result, status, correlation_id
            FROM audit
            WHERE tenant = @tenant
              AND (CAST(@since AS TEXT) IS NULL OR time >= @since)
              AND (CAST(@until AS TEXT) IS NULL OR time < @until)
              AND (CAST(@actor AS TEXT) IS NULL OR actor = @actor)
              AND (CAST(@action AS TEXT) IS NULL OR action = @action)
              AND (CAST(@beforeTime AS TEXT) IS NULL OR time < @beforeTime OR (time = @beforeTime AND id < @beforeId))
            ORDER BY time DESC, id DESC
            LIMIT @limit
            """;
        var result = new List<AuditRecord>();
        await using var r = await ReaderAsync(c, sql, cancellationToken,
            ("tenant", Scoped(query.Tenant)), ("since", NullableIso(query.Since)), ("until", NullableIso(query.Until)), ("actor", query.Actor), ("action", query.Action),
            ("beforeTime", query.Before is { } b ? Iso(b.Time) : null), ("beforeId", query.Before?.Id ?? ""), ("limit", query.Limit));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new AuditRecord
            {
                Id = r.GetString(0),
                Time = ParseIso(r.GetString(1)),
                Tenant = r.GetString(2),
                ActorKind = r.GetString(3),
                Actor = r.GetString(4),
                TokenId = NullableString(r, 5),
                Role = NullableString(r, 6),
                RemoteAddress = NullableString(r, 7),
                Action = r.GetString(8),
                Target = NullableString(r, 9),
                Parameters = NullableString(r, 10),
                Result = r.GetString(11),
                Status = (int)r.GetInt64(12),
                CorrelationId = r.GetString(13),
            });
        }

        return result;
    }
}
