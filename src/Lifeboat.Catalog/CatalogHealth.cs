namespace Lifeboat.Catalog;

/// <summary>
/// The last state the server's health evaluation saw of one check of <c>status</c> (<paramref name="Source"/> empty for
/// the repository's own checks): what a later evaluation compares with, so that an alert is raised on a change of
/// state only, and a restart does not raise it again.
/// </summary>
public sealed record HealthStateRecord(string Tenant, string Source, string Check, string State, string Detail, DateTimeOffset Changed);

public sealed partial class LifeboatCatalog
{
    private const string HealthStateColumns = "tenant, source, check_name, state, detail, changed";

    /// <summary>Every check state of the tenant the health evaluation recorded.</summary>
    public async Task<List<HealthStateRecord>> HealthStatesAsync(string tenant, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {HealthStateColumns} FROM health_states WHERE tenant = @tenant ORDER BY source, check_name", cancellationToken, ("tenant", Scoped(tenant)));
        var states = new List<HealthStateRecord>();
        while (await r.ReadAsync(cancellationToken))
        {
            states.Add(new HealthStateRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), ParseIso(r.GetString(5))));
        }

        return states;
    }

    /// <summary>
    /// Records a check's new state and the events of the change, in one transaction — only when the state stored is
    /// still <paramref name="previous"/> (null: none stored yet), so two servers on one catalog never alert twice.
    /// False when another evaluation changed it first (nothing written).
    /// </summary>
    public async Task<bool> ChangeHealthStateAsync(HealthStateRecord next, string? previous, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        (string, object?)[] values = [("tenant", next.Tenant), ("source", next.Source), ("check", next.Check), ("state", next.State), ("detail", next.Detail), ("changed", Iso(next.Changed)), ("previous", previous)];
        await using var change = previous is null
            ? Command(c, $"INSERT INTO health_states ({HealthStateColumns}) VALUES (@tenant, @source, @check, @state, @detail, @changed) ON CONFLICT (tenant, source, check_name) DO NOTHING", tx, values)
            : Command(c, "UPDATE health_states SET state = @state, detail = @detail, changed = @changed WHERE tenant = @tenant AND source = @source AND check_name = @check AND state = @previous", tx, values);
        if (await change.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            await tx.RollbackAsync(cancellationToken);
            return false;
        }

        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }
}
