namespace Lifeboat.Catalog;

/// <summary>Maintenance mode: one window per tenant and scope (a source, or <see cref="MaintenanceRecord.Global"/>).</summary>
public sealed partial class LifeboatCatalog
{
    private const string MaintenanceColumns = "tenant, scope, reason, started, ends, actor";

    /// <summary>Starts (or replaces) the window of <see cref="MaintenanceRecord.Scope"/>.</summary>
    public Task SaveMaintenanceAsync(MaintenanceRecord window, CancellationToken cancellationToken) => SaveMaintenanceAsync(window, [], cancellationToken);

    /// <summary>Starts (or replaces) the window and writes the events it caused, in one transaction.</summary>
    public async Task SaveMaintenanceAsync(MaintenanceRecord window, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await ExecAsync(c, "DELETE FROM maintenance WHERE tenant = @tenant AND scope = @scope", cancellationToken, tx, ("tenant", window.Tenant), ("scope", window.Scope));
        await ExecAsync(c, $"INSERT INTO maintenance ({MaintenanceColumns}) VALUES (@tenant, @scope, @reason, @started, @ends, @actor)", cancellationToken, tx,
            ("tenant", window.Tenant), ("scope", window.Scope), ("reason", window.Reason), ("started", Iso(window.Started)), ("ends", NullableIso(window.Ends)), ("actor", window.Actor));
        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Ends the window of <paramref name="scope"/>; the window it removed, or null when there was none.</summary>
    public Task<MaintenanceRecord?> RemoveMaintenanceAsync(string tenant, string scope, CancellationToken cancellationToken) => RemoveMaintenanceAsync(tenant, scope, [], cancellationToken);

    /// <summary>Ends the window of <paramref name="scope"/>, writing <paramref name="eventsIfRemoved"/> with it when there was one.</summary>
    public async Task<MaintenanceRecord?> RemoveMaintenanceAsync(string tenant, string scope, IReadOnlyList<EventRecord> eventsIfRemoved, CancellationToken cancellationToken)
    {
        var windows = await MaintenanceAsync(tenant, cancellationToken);
        var window = windows.FirstOrDefault(w => w.Scope == scope);
        if (window is not null)
        {
            await using var c = await OpenAsync(cancellationToken);
            await using var tx = await c.BeginTransactionAsync(cancellationToken);
            await using var delete = Command(c, "DELETE FROM maintenance WHERE tenant = @tenant AND scope = @scope", tx, [("tenant", Scoped(tenant)), ("scope", scope)]);
            if (await delete.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                await InsertEventsAsync(c, tx, eventsIfRemoved, cancellationToken);
            }

            await tx.CommitAsync(cancellationToken);
        }

        return window;
    }

    /// <summary>Every window of <paramref name="tenant"/>, also those whose end has passed (the caller compares with its clock).</summary>
    public async Task<List<MaintenanceRecord>> MaintenanceAsync(string tenant, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<MaintenanceRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {MaintenanceColumns} FROM maintenance WHERE tenant = @tenant ORDER BY scope", cancellationToken, ("tenant", Scoped(tenant)));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new MaintenanceRecord
            {
                Tenant = r.GetString(0),
                Scope = r.GetString(1),
                Reason = NullableString(r, 2),
                Started = ParseIso(r.GetString(3)),
                Ends = NullableTime(r, 4),
                Actor = r.GetString(5),
            });
        }

        return result;
    }
}

/// <summary>A maintenance window as the catalog keeps it.</summary>
public sealed record MaintenanceRecord
{
    /// <summary>The scope of a window over the whole workspace (no source is named <c>*</c>).</summary>
    public const string Global = "*";

    public required string Tenant { get; init; }

    /// <summary>A source name, or <see cref="Global"/>.</summary>
    public required string Scope { get; init; }

    public string? Reason { get; init; }

    public required DateTimeOffset Started { get; init; }

    /// <summary>When it ends by itself; null: when someone ends it.</summary>
    public DateTimeOffset? Ends { get; init; }

    /// <summary>Who started it (the actor's name).</summary>
    public required string Actor { get; init; }
}
