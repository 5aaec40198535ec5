namespace Lifeboat.Catalog;

/// <summary>API tokens: found by the hash of the secret, listed by tenant, revoked (never deleted).</summary>
public sealed partial class LifeboatCatalog
{
    private const string TokenColumns = "id, name, role, tenant, hash, created, created_by, expires, last_used, revoked";

    public Task InsertTokenAsync(TokenRecord token, CancellationToken cancellationToken) => InsertTokenAsync(token, [], cancellationToken);

    /// <summary>Inserts the token and the events its creation caused, in one transaction.</summary>
    public async Task InsertTokenAsync(TokenRecord token, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await ExecAsync(c, $"INSERT INTO tokens ({TokenColumns}) VALUES (@id, @name, @role, @tenant, @hash, @created, @createdBy, @expires, @lastUsed, @revoked)", cancellationToken, tx,
            ("id", token.Id), ("name", token.Name), ("role", token.Role), ("tenant", token.Tenant), ("hash", token.Hash), ("created", Iso(token.Created)),
            ("createdBy", token.CreatedBy), ("expires", NullableIso(token.Expires)), ("lastUsed", NullableIso(token.LastUsed)), ("revoked", NullableIso(token.Revoked)));
        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The token whose secret hashes to <paramref name="hash"/>, of any tenant (server-wide: authentication), or null.</summary>
    public Task<TokenRecord?> TokenByHashAsync(string hash, CancellationToken cancellationToken) => OneTokenAsync("hash", hash, null, cancellationToken);

    /// <summary>This catalog's tenant's token of that id, or null.</summary>
    public Task<TokenRecord?> TokenAsync(string id, CancellationToken cancellationToken) => OneTokenAsync("id", id, Tenant, cancellationToken);

    /// <summary>The token of that id in any tenant (server-wide: the host's command line and superadmins revoke any), or null.</summary>
    public Task<TokenRecord?> TokenOfAnyTenantAsync(string id, CancellationToken cancellationToken) => OneTokenAsync("id", id, null, cancellationToken);

    /// <summary>The tokens of <paramref name="tenant"/>, oldest first; revoked ones only with <paramref name="includeRevoked"/>.</summary>
    public async Task<List<TokenRecord>> TokensAsync(string tenant, bool includeRevoked, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<TokenRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {TokenColumns} FROM tokens WHERE tenant = @tenant AND (@all = 1 OR revoked IS NULL) ORDER BY created, id", cancellationToken,
            ("tenant", Scoped(tenant)), ("all", includeRevoked ? 1 : 0));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadToken(r));
        }

        return result;
    }

    /// <summary>Marks the token revoked at <paramref name="time"/>; a token revoked before keeps its first time. False: no such token.</summary>
    public Task<bool> RevokeTokenAsync(string id, DateTimeOffset time, CancellationToken cancellationToken) => RevokeTokenAsync(id, time, [], cancellationToken);

    /// <summary>
    /// Marks the token revoked, and writes <paramref name="eventsIfFirst"/> in the same transaction when this is its first
    /// revocation (a token revoked again publishes nothing). False: no such token.
    /// </summary>
    public async Task<bool> RevokeTokenAsync(string id, DateTimeOffset time, IReadOnlyList<EventRecord> eventsIfFirst, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using (var update = Command(c, "UPDATE tokens SET revoked = @time WHERE tenant = @tenant AND id = @id AND revoked IS NULL", tx, [("tenant", Tenant), ("id", id), ("time", Iso(time))]))
        {
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await InsertEventsAsync(c, tx, eventsIfFirst, cancellationToken);
            }
        }

        await using var exists = Command(c, "SELECT 1 FROM tokens WHERE tenant = @tenant AND id = @id", tx, [("tenant", Tenant), ("id", id)]);
        var found = await exists.ExecuteScalarAsync(cancellationToken) is not null;
        await tx.CommitAsync(cancellationToken);
        return found;
    }

    /// <summary>
    /// Records that the token was used at <paramref name="time"/>, unless it was already recorded less than
    /// <paramref name="resolution"/> before (one write a minute, not one a request).
    /// </summary>
    public async Task TouchTokenAsync(string id, DateTimeOffset time, TimeSpan resolution, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, "UPDATE tokens SET last_used = @time WHERE id = @id AND (last_used IS NULL OR last_used <= @before)", cancellationToken, null,
            ("id", id), ("time", Iso(time)), ("before", Iso(time - resolution)));
    }

    /// <param name="tenant">Null only for authentication (by hash, before the call's tenant is known: server-wide).</param>
    private async Task<TokenRecord?> OneTokenAsync(string column, string value, string? tenant, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {TokenColumns} FROM tokens WHERE {column} = @value AND (CAST(@tenant AS TEXT) IS NULL OR tenant = @tenant)", cancellationToken, ("value", value), ("tenant", tenant));
        return await r.ReadAsync(cancellationToken) ? ReadToken(r) : null;
    }

    private static TokenRecord ReadToken(System.Data.Common.DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetString(1),
        Role = r.GetString(2),
        Tenant = r.GetString(3),
        Hash = r.GetString(4),
        Created = ParseIso(r.GetString(5)),
        CreatedBy = NullableString(r, 6),
        Expires = NullableTime(r, 7),
        LastUsed = NullableTime(r, 8),
        Revoked = NullableTime(r, 9),
    };

    private static string? NullableIso(DateTimeOffset? t) => t is { } v ? Iso(v) : null;

    private static DateTimeOffset? NullableTime(System.Data.Common.DbDataReader r, int i) => r.IsDBNull(i) ? null : ParseIso(r.GetString(i));
}
