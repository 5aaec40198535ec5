using System.Globalization;

namespace Lifeboat.Catalog;

/// <summary>A tenant of the server (docs/tenants.md): its state, quotas and last computed usage.</summary>
public sealed record TenantRecord
{
    public const string Active = "active";
    public const string Suspended = "suspended";
    public const string Removing = "removing";

    public required string Name { get; init; }

    public required string DisplayName { get; init; }

    /// <summary><see cref="Active"/>, <see cref="Suspended"/> or <see cref="Removing"/>.</summary>
    public required string State { get; init; }

    public required DateTimeOffset Created { get; init; }

    public required string CreatedBy { get; init; }

    public required DateTimeOffset StateChanged { get; init; }

    public string? StateReason { get; init; }

    /// <summary>Removing: when its data is deleted.</summary>
    public DateTimeOffset? RemoveAfter { get; init; }

    /// <summary>Null: no quota.</summary>
    public long? QuotaStoredBytes { get; init; }

    public long? QuotaSources { get; init; }

    public long? QuotaJobs { get; init; }

    public long UsageStoredBytes { get; init; }

    public long UsageLogicalBytes { get; init; }

    public DateTimeOffset? UsageUpdated { get; init; }
}

// ---- the tenant registry: server-wide (only the tenants use cases, for a superadmin, and the server's own passes call it)
public sealed partial class LifeboatCatalog
{
    private const string TenantColumns = "name, display_name, state, created, created_by, state_changed, state_reason, remove_after, quota_stored_bytes, quota_sources, quota_jobs, usage_stored_bytes, usage_logical_bytes, usage_updated";

    /// <summary>Adds a tenant; false when one of that name exists.</summary>
    public async Task<bool> InsertTenantAsync(TenantRecord t, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using var insert = Command(c, $"""
            INSERT INTO tenants ({TenantColumns}) VALUES (@name, @display, @state, @created, @createdBy, @changed, @reason, @removeAfter, @qStored, @qSources, @qJobs, 0, 0, NULL)
            ON CONFLICT (name) DO NOTHING
            """, tx,
            [("name", t.Name), ("display", t.DisplayName), ("state", t.State), ("created", Iso(t.Created)), ("createdBy", t.CreatedBy), ("changed", Iso(t.StateChanged)),
             ("reason", t.StateReason), ("removeAfter", t.RemoveAfter is { } r ? Iso(r) : null), ("qStored", t.QuotaStoredBytes), ("qSources", t.QuotaSources), ("qJobs", t.QuotaJobs)]);
        if (await insert.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            return false;
        }

        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The tenant of that name, or null.</summary>
    public async Task<TenantRecord?> TenantAsync(string name, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {TenantColumns} FROM tenants WHERE name = @name", cancellationToken, ("name", name));
        return await r.ReadAsync(cancellationToken) ? ReadTenant(r) : null;
    }

    /// <summary>Tenants by name; <paramref name="search"/> matches a part of the name or display name (case-insensitive).</summary>
    public async Task<List<TenantRecord>> TenantsAsync(string? search, string? state, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var pattern = search is null ? null : "%" + search.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
        await using var r = await ReaderAsync(c, $"""
            SELECT {TenantColumns} FROM tenants
            WHERE (CAST(@state AS TEXT) IS NULL OR state = @state)
              AND (CAST(@pattern AS TEXT) IS NULL OR LOWER(name) LIKE @pattern ESCAPE '\' OR LOWER(display_name) LIKE @pattern ESCAPE '\')
            ORDER BY name
            """, cancellationToken, ("state", state), ("pattern", pattern));
        var result = new List<TenantRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadTenant(r));
        }

        return result;
    }

    /// <summary>Moves a tenant from one of <paramref name="from"/> to <paramref name="to"/> with its events; false when it was in another state.</summary>
    public async Task<bool> ChangeTenantStateAsync(string name, IReadOnlyList<string> from, string to, string? reason, DateTimeOffset time, DateTimeOffset? removeAfter, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken, bool revokeTokens = false)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var parameters = new List<(string, object?)> { ("name", name), ("to", to), ("reason", reason), ("time", Iso(time)), ("removeAfter", removeAfter is { } r ? Iso(r) : null) };
        var names = from.Select((s, i) => { parameters.Add(("from" + i.ToString(CultureInfo.InvariantCulture), s)); return "@from" + i.ToString(CultureInfo.InvariantCulture); });
        await using var update = Command(c, $"UPDATE tenants SET state = @to, state_reason = @reason, state_changed = @time, remove_after = @removeAfter WHERE name = @name AND state IN ({string.Join(", ", names)})", tx, [.. parameters]);
        if (await update.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            return false;
        }

        if (revokeTokens)
        {
            // In the same transaction: a tenant being removed never keeps a working token, even after a crash.
            await ExecAsync(c, "UPDATE tokens SET revoked = @time WHERE tenant = @name AND revoked IS NULL", cancellationToken, tx, ("name", name), ("time", Iso(time)));
        }

        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Sets a tenant's quotas (null: none); false when there is no such tenant.</summary>
    public async Task<bool> SetTenantQuotasAsync(string name, long? storedBytes, long? sources, long? jobs, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var update = Command(c, "UPDATE tenants SET quota_stored_bytes = @stored, quota_sources = @sources, quota_jobs = @jobs WHERE name = @name", null,
            [("name", name), ("stored", storedBytes), ("sources", sources), ("jobs", jobs)]);
        return await update.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Records a tenant's usage as computed from its repository.</summary>
    public async Task SetTenantUsageAsync(string name, long storedBytes, long logicalBytes, DateTimeOffset time, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, "UPDATE tenants SET usage_stored_bytes = @stored, usage_logical_bytes = @logical, usage_updated = @time WHERE name = @name", cancellationToken, null,
            ("name", name), ("stored", storedBytes), ("logical", logicalBytes), ("time", Iso(time)));
    }

    /// <summary>Deletes a tenant's registry row and every row it owns in the catalog (the end of its removal).</summary>
    public async Task DeleteTenantAsync(string name, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        foreach (var table in (string[])["runs", "backups", "wal", "schedules", "schedule_runs", "drills", "tokens", "jobs", "maintenance", "webhooks", "incidents", "health_states", "approval_policies", "approval_requests", "tenant_api_calls"])
        {
            await ExecAsync(c, $"DELETE FROM {table} WHERE tenant = @tenant", cancellationToken, tx, ("tenant", name));
        }

        await ExecAsync(c, "DELETE FROM tenants WHERE name = @name", cancellationToken, tx, ("name", name));
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Counts one API call of a tenant on a day (yyyy-MM-dd, UTC).</summary>
    public async Task CountApiCallsAsync(string tenant, string day, long calls, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, """
            INSERT INTO tenant_api_calls (tenant, day, calls) VALUES (@tenant, @day, @calls)
            ON CONFLICT (tenant, day) DO UPDATE SET calls = tenant_api_calls.calls + excluded.calls
            """, cancellationToken, null, ("tenant", tenant), ("day", day), ("calls", calls));
    }

    /// <summary>A tenant's API calls since <paramref name="sinceDay"/> (inclusive).</summary>
    public async Task<long> ApiCallsAsync(string tenant, string sinceDay, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        return Convert.ToInt64(await ScalarAsync(c, "SELECT COALESCE(SUM(calls), 0) FROM tenant_api_calls WHERE tenant = @tenant AND day >= @day", cancellationToken, ("tenant", tenant), ("day", sinceDay)), CultureInfo.InvariantCulture);
    }

    private static TenantRecord ReadTenant(System.Data.Common.DbDataReader r) => new()
    {
        Name = r.GetString(0),
        DisplayName = r.GetString(1),
        State = r.GetString(2),
        Created = ParseIso(r.GetString(3)),
        CreatedBy = r.GetString(4),
        StateChanged = ParseIso(r.GetString(5)),
        StateReason = NullableString(r, 6),
        RemoveAfter = r.IsDBNull(7) ? null : ParseIso(r.GetString(7)),
        QuotaStoredBytes = NullableLong(r, 8),
        QuotaSources = NullableLong(r, 9),
        QuotaJobs = NullableLong(r, 10),
        UsageStoredBytes = r.GetInt64(11),
        UsageLogicalBytes = r.GetInt64(12),
        UsageUpdated = r.IsDBNull(13) ? null : ParseIso(r.GetString(13)),
    };
}

/// <summary>What a tenant's catalog rows say it holds: backups and archived WAL (a cache of its repository).</summary>
/// <param name="StoredBytes">Bytes the backups added to the repository after dedup and compression, plus the archived WAL.</param>
/// <param name="LogicalBytes">Bytes the backups protect (read from the sources).</param>
public sealed record TenantUsageRecord(long StoredBytes, long LogicalBytes, long Backups, DateTimeOffset? LastBackup, long WalBytes);

public sealed partial class LifeboatCatalog
{
    /// <summary>The usage of this catalog's tenant, from its backups and WAL rows.</summary>
    public async Task<TenantUsageRecord> UsageAsync(CancellationToken cancellationToken)
    {
        long stored, logical, count;
        DateTimeOffset? last;
        await using (var c0 = await OpenAsync(cancellationToken))
        await using (var r = await ReaderAsync(c0, "SELECT COALESCE(SUM(stored_bytes), 0), COALESCE(SUM(bytes), 0), COUNT(*), MAX(finished) FROM backups WHERE tenant = @tenant", cancellationToken, ("tenant", Tenant)))
        {
            await r.ReadAsync(cancellationToken);
            stored = Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture);
            logical = Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture);
            count = Convert.ToInt64(r.GetValue(2), CultureInfo.InvariantCulture);
            last = r.IsDBNull(3) ? null : ParseIso(r.GetString(3));
        }

        await using var c = await OpenAsync(cancellationToken); // the reader closed the first connection
        var wal = Convert.ToInt64(await ScalarAsync(c, "SELECT COALESCE(SUM(size), 0) FROM wal WHERE tenant = @tenant", cancellationToken, ("tenant", Tenant)), CultureInfo.InvariantCulture);
        return new TenantUsageRecord(stored + wal, logical, count, last, wal);
    }
}
