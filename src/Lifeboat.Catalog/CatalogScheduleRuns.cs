namespace Lifeboat.Catalog;

/// <summary>A scheduled run one node claimed (and runs, or ran), identified by its schedule and due time.</summary>
public sealed record ScheduledRunClaim(string Name, DateTimeOffset Due, string Node, DateTimeOffset Claimed, DateTimeOffset Heartbeat, DateTimeOffset? Finished, string? Status, int Takeovers);

// ---- schedule runs: which node runs which due run of a schedule (several server nodes on one catalog)
public sealed partial class LifeboatCatalog
{
    /// <summary>
    /// Claims the run of <paramref name="name"/> due at <paramref name="due"/> for <paramref name="node"/>: true when
    /// this node inserted the claim, or took over an unfinished claim whose heartbeat is older than
    /// <paramref name="staleBefore"/> (its node died). Atomic on SQLite and PostgreSQL: of nodes racing for one run,
    /// exactly one gets true.
    /// </summary>
    public async Task<bool> ClaimScheduledRunAsync(string name, DateTimeOffset due, string node, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        var now = Iso(_time.GetUtcNow());
        await using var c = await OpenAsync(cancellationToken);
        await using var insert = Command(c, """
            INSERT INTO schedule_runs (tenant, name, due, node, claimed, heartbeat) VALUES (@tenant, @name, @due, @node, @now, @now)
            ON CONFLICT (tenant, name, due) DO NOTHING
            """, null, [("tenant", Tenant), ("name", name), ("due", Iso(due)), ("node", node), ("now", now)]);
        if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return true;
        }

        await using var takeover = Command(c, """
            UPDATE schedule_runs SET node = @node, claimed = @now, heartbeat = @now, takeovers = takeovers + 1
            WHERE tenant = @tenant AND name = @name AND due = @due AND finished IS NULL AND heartbeat < @stale AND node <> @node
            """, null, [("tenant", Tenant), ("name", name), ("due", Iso(due)), ("node", node), ("now", now), ("stale", Iso(staleBefore))]);
        return await takeover.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>The node running a claimed run says it is alive; false when the claim is no longer its own (taken over).</summary>
    public async Task<bool> HeartbeatScheduledRunAsync(string name, DateTimeOffset due, string node, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var cmd = Command(c, "UPDATE schedule_runs SET heartbeat = @now WHERE tenant = @tenant AND name = @name AND due = @due AND node = @node AND finished IS NULL", null,
            [("tenant", Tenant), ("name", name), ("due", Iso(due)), ("node", node), ("now", Iso(_time.GetUtcNow()))]);
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public async Task FinishScheduledRunAsync(string name, DateTimeOffset due, string node, string status, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await ExecAsync(c, "UPDATE schedule_runs SET finished = @now, status = @status WHERE tenant = @tenant AND name = @name AND due = @due AND node = @node", cancellationToken, null,
            ("tenant", Tenant), ("name", name), ("due", Iso(due)), ("node", node), ("now", Iso(_time.GetUtcNow())), ("status", status));
    }

    /// <summary>Unfinished claims whose heartbeat is older than <paramref name="staleBefore"/>: runs a dead node left.</summary>
    public async Task<List<ScheduledRunClaim>> StaleScheduledRunsAsync(DateTimeOffset staleBefore, CancellationToken cancellationToken)
        => await ScheduledRunsAsync("finished IS NULL AND heartbeat < @stale", [("stale", Iso(staleBefore))], cancellationToken);

    /// <summary>Every claim of a schedule, oldest due first (tests, diagnostics).</summary>
    public async Task<List<ScheduledRunClaim>> ScheduledRunsAsync(string name, CancellationToken cancellationToken)
        => await ScheduledRunsAsync("name = @name", [("name", name)], cancellationToken);

    private async Task<List<ScheduledRunClaim>> ScheduledRunsAsync(string where, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT name, due, node, claimed, heartbeat, finished, status, takeovers FROM schedule_runs WHERE tenant = @tenant AND {where} ORDER BY due", cancellationToken, [("tenant", Tenant), .. parameters]);
        var result = new List<ScheduledRunClaim>();
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new ScheduledRunClaim(r.GetString(0), ParseIso(r.GetString(1)), r.GetString(2), ParseIso(r.GetString(3)), ParseIso(r.GetString(4)), r.IsDBNull(5) ? null : ParseIso(r.GetString(5)), NullableString(r, 6), (int)r.GetInt64(7)));
        }

        return result;
    }
}
