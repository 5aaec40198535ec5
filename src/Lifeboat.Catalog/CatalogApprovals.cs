using System.Data.Common;
using System.Globalization;

namespace Lifeboat.Catalog;

/// <summary>An approval policy of a tenant: which operation needs how many approvals from whom (docs/approvals.md).</summary>
public sealed record ApprovalPolicyRecord
{
    public required string Tenant { get; init; }

    /// <summary>The destructive operation's stable name (<c>backup.forget</c>, …).</summary>
    public required string Operation { get; init; }

    /// <summary>How many distinct people must approve (the requester never counts).</summary>
    public required int Approvals { get; init; }

    /// <summary>The role an approver must hold (or one holding every permission it holds); null: only the named users.</summary>
    public string? Role { get; init; }

    /// <summary>People who may approve whatever their role, comma-separated principals (a token name, <c>cli:USER</c>); null: none.</summary>
    public string? Users { get; init; }

    public required long ApproveWithinSeconds { get; init; }

    public required long ExecuteWithinSeconds { get; init; }

    /// <summary>Changes with every change of the policy: a request made under another version is void.</summary>
    public required string Version { get; init; }

    public required DateTimeOffset Updated { get; init; }

    public required string UpdatedBy { get; init; }
}

/// <summary>One approval request: the exact operation (its parameters and their hash), who asked, and where it stands.</summary>
public sealed record ApprovalRequestRecord
{
    public required string Id { get; init; }

    public required string Tenant { get; init; }

    public required string Operation { get; init; }

    public string? Source { get; init; }

    public required string Description { get; init; }

    /// <summary>The operation's parameters as a JSON object.</summary>
    public required string Parameters { get; init; }

    /// <summary>SHA-256 (hex) of the operation, its source and its parameters: what executes must hash the same.</summary>
    public required string Hash { get; init; }

    /// <summary>A fingerprint of what the operation is about (the source's configuration) when it was requested; null: none.</summary>
    public string? Subject { get; init; }

    /// <summary>The requester as a principal (one person: a token's name, <c>cli:USER</c>, <c>scheduler:NAME</c>).</summary>
    public required string RequestedBy { get; init; }

    /// <summary>The requester's actor as JSON (kind, name, role, token id, address).</summary>
    public required string Requester { get; init; }

    public required string PolicyVersion { get; init; }

    public required int Required { get; init; }

    public string? Role { get; init; }

    public string? Users { get; init; }

    /// <summary>pending, approved, denied, expired, voided or executed.</summary>
    public required string State { get; init; }

    public required DateTimeOffset Created { get; init; }

    /// <summary>Until when it may be approved.</summary>
    public required DateTimeOffset ApproveBy { get; init; }

    public DateTimeOffset? Approved { get; init; }

    /// <summary>Until when the approved operation may be executed.</summary>
    public DateTimeOffset? ExecuteBy { get; init; }

    /// <summary>When it was executed, denied, expired or voided.</summary>
    public DateTimeOffset? Finished { get; init; }

    /// <summary>Why it was denied, expired or voided.</summary>
    public string? Reason { get; init; }

    public required string CorrelationId { get; init; }
}

/// <summary>One person's decision on a request: approve or deny, with the role and token it was made with.</summary>
public sealed record ApprovalDecisionRecord
{
    public required string RequestId { get; init; }

    public required string Principal { get; init; }

    /// <summary>approve or deny.</summary>
    public required string Decision { get; init; }

    public string? Role { get; init; }

    public string? TokenId { get; init; }

    public required DateTimeOffset Time { get; init; }

    public string? Reason { get; init; }
}

/// <summary>How recording a decision went.</summary>
public enum ApprovalDecisionOutcome
{
    /// <summary>Recorded; the request stays pending (more approvals are needed).</summary>
    Recorded,

    /// <summary>Recorded, and it decided the request (approved or denied).</summary>
    Decided,

    /// <summary>This person already decided on this request: nothing changed (one person counts once).</summary>
    Duplicate,

    /// <summary>The request is no longer pending: nothing changed.</summary>
    NotPending,
}

/// <summary>Approval policies, requests and decisions (docs/approvals.md), per tenant.</summary>
public sealed partial class LifeboatCatalog
{
    private const string PolicyColumns = "tenant, operation, approvals, role, users, approve_within, execute_within, version, updated, updated_by";
    private const string RequestColumns = "id, tenant, operation, source, description, parameters, hash, subject, requested_by, requester, policy_version, required, role, users, state, created, approve_by, approved, execute_by, finished, reason, correlation_id";
    private const string DecisionColumns = "request_id, principal, decision, role, token_id, time, reason";

    public async Task<List<ApprovalPolicyRecord>> ApprovalPoliciesAsync(string tenant, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<ApprovalPolicyRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {PolicyColumns} FROM approval_policies WHERE tenant = @tenant ORDER BY operation", cancellationToken, ("tenant", Scoped(tenant)));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadPolicy(r));
        }

        return result;
    }

    public async Task<ApprovalPolicyRecord?> ApprovalPolicyAsync(string tenant, string operation, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {PolicyColumns} FROM approval_policies WHERE tenant = @tenant AND operation = @operation", cancellationToken, ("tenant", Scoped(tenant)), ("operation", operation));
        return await r.ReadAsync(cancellationToken) ? ReadPolicy(r) : null;
    }

    /// <summary>
    /// Writes the policies (new or replacing) and removes <paramref name="remove"/>, voiding every pending or approved
    /// request of the operations they concern, with <paramref name="events"/>, in one transaction. Returns how many
    /// requests were voided.
    /// </summary>
    public async Task<int> ChangeApprovalPoliciesAsync(string tenant, IReadOnlyList<ApprovalPolicyRecord> upsert, IReadOnlyList<string> remove, DateTimeOffset time, string reason, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        var voided = 0;
        foreach (var p in upsert)
        {
            await ExecAsync(c, "DELETE FROM approval_policies WHERE tenant = @tenant AND operation = @operation", cancellationToken, tx, ("tenant", Scoped(tenant)), ("operation", p.Operation));
            await ExecAsync(c, $"INSERT INTO approval_policies ({PolicyColumns}) VALUES (@tenant, @operation, @approvals, @role, @users, @approveWithin, @executeWithin, @version, @updated, @updatedBy)", cancellationToken, tx,
                ("tenant", Scoped(tenant)), ("operation", p.Operation), ("approvals", (long)p.Approvals), ("role", p.Role), ("users", p.Users), ("approveWithin", p.ApproveWithinSeconds),
                ("executeWithin", p.ExecuteWithinSeconds), ("version", p.Version), ("updated", Iso(p.Updated)), ("updatedBy", p.UpdatedBy));
            voided += await VoidOpenAsync(c, tx, tenant, p.Operation, time, reason, cancellationToken);
        }

        foreach (var operation in remove)
        {
            await ExecAsync(c, "DELETE FROM approval_policies WHERE tenant = @tenant AND operation = @operation", cancellationToken, tx, ("tenant", Scoped(tenant)), ("operation", operation));
            voided += await VoidOpenAsync(c, tx, tenant, operation, time, reason, cancellationToken);
        }

        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return voided;
    }

    /// <summary>
    /// Applies policies from the configuration file: each change is made only if the operation's row is still the one
    /// the caller read (<c>Expected</c>: its version, or null for no row), so that two processes applying the same file
    /// change it once and never void a request made in between. All or nothing, with <paramref name="events"/>: false
    /// (nothing written) when a row was changed meanwhile. A replaced or removed policy voids its open requests.
    /// </summary>
    public async Task<bool> ApplyApprovalPoliciesAsync(string tenant, IReadOnlyList<(string Operation, string? Expected, ApprovalPolicyRecord? Policy)> changes, DateTimeOffset time, string reason, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        foreach (var (operation, expected, p) in changes)
        {
            if (expected is not null)
            {
                await using var delete = Command(c, "DELETE FROM approval_policies WHERE tenant = @tenant AND operation = @operation AND version = @version", tx, [("tenant", Scoped(tenant)), ("operation", operation), ("version", expected)]);
                if (await delete.ExecuteNonQueryAsync(cancellationToken) != 1)
                {
                    await tx.RollbackAsync(cancellationToken);
                    return false;
                }

                await VoidOpenAsync(c, tx, tenant, operation, time, reason, cancellationToken);
            }

            if (p is not null)
            {
                await using var insert = Command(c, $"INSERT INTO approval_policies ({PolicyColumns}) VALUES (@tenant, @operation, @approvals, @role, @users, @approveWithin, @executeWithin, @version, @updated, @updatedBy) ON CONFLICT (tenant, operation) DO NOTHING", tx,
                    [("tenant", Scoped(tenant)), ("operation", operation), ("approvals", (long)p.Approvals), ("role", p.Role), ("users", p.Users), ("approveWithin", p.ApproveWithinSeconds),
                    ("executeWithin", p.ExecuteWithinSeconds), ("version", p.Version), ("updated", Iso(p.Updated)), ("updatedBy", p.UpdatedBy)]);
                if (await insert.ExecuteNonQueryAsync(cancellationToken) != 1)
                {
                    await tx.RollbackAsync(cancellationToken);
                    return false;
                }
            }
        }

        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    public async Task InsertApprovalRequestAsync(ApprovalRequestRecord request, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await ExecAsync(c, $"INSERT INTO approval_requests ({RequestColumns}) VALUES (@id, @tenant, @operation, @source, @description, @parameters, @hash, @subject, @requestedBy, @requester, @policyVersion, @required, @role, @users, @state, @created, @approveBy, @approved, @executeBy, @finished, @reason, @correlation)", cancellationToken, tx,
            ("id", request.Id), ("tenant", request.Tenant), ("operation", request.Operation), ("source", request.Source), ("description", request.Description), ("parameters", request.Parameters),
            ("hash", request.Hash), ("subject", request.Subject), ("requestedBy", request.RequestedBy), ("requester", request.Requester), ("policyVersion", request.PolicyVersion),
            ("required", (long)request.Required), ("role", request.Role), ("users", request.Users), ("state", request.State), ("created", Iso(request.Created)), ("approveBy", Iso(request.ApproveBy)),
            ("approved", NullableIso(request.Approved)), ("executeBy", NullableIso(request.ExecuteBy)), ("finished", NullableIso(request.Finished)), ("reason", request.Reason), ("correlation", request.CorrelationId));
        await InsertEventsAsync(c, tx, events, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The tenant's request, or null (another tenant's request is not found).</summary>
    public async Task<ApprovalRequestRecord?> ApprovalRequestAsync(string tenant, string id, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var r = await ReaderAsync(c, $"SELECT {RequestColumns} FROM approval_requests WHERE tenant = @tenant AND id = @id", cancellationToken, ("tenant", Scoped(tenant)), ("id", id));
        return await r.ReadAsync(cancellationToken) ? ReadRequest(r) : null;
    }

    /// <summary>The tenant's requests, newest first, only in <paramref name="state"/> when given.</summary>
    public async Task<List<ApprovalRequestRecord>> ApprovalRequestsAsync(string tenant, string? state, int limit, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<ApprovalRequestRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {RequestColumns} FROM approval_requests WHERE tenant = @tenant AND (CAST(@state AS TEXT) IS NULL OR state = @state) ORDER BY created DESC, id DESC LIMIT {limit.ToString(CultureInfo.InvariantCulture)}", cancellationToken,
            ("tenant", Scoped(tenant)), ("state", state));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(ReadRequest(r));
        }

        return result;
    }

    /// <summary>The newest request of the same operation (same hash) by the same requester in one of <paramref name="states"/>, or null.</summary>
    public async Task<ApprovalRequestRecord?> FindApprovalRequestAsync(string tenant, string hash, string requestedBy, IReadOnlyList<string> states, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var names = states.Select((_, i) => "@s" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var parameters = new List<(string, object?)> { ("tenant", Scoped(tenant)), ("hash", hash), ("requestedBy", requestedBy) };
        parameters.AddRange(states.Select((s, i) => ("s" + i.ToString(CultureInfo.InvariantCulture), (object?)s)));
        await using var r = await ReaderAsync(c, $"SELECT {RequestColumns} FROM approval_requests WHERE tenant = @tenant AND hash = @hash AND requested_by = @requestedBy AND state IN ({string.Join(", ", names)}) ORDER BY created DESC, id DESC LIMIT 1", cancellationToken,
            [.. parameters]);
        return await r.ReadAsync(cancellationToken) ? ReadRequest(r) : null;
    }

    public async Task<List<ApprovalDecisionRecord>> ApprovalDecisionsAsync(string requestId, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        var result = new List<ApprovalDecisionRecord>();
        await using var r = await ReaderAsync(c, $"SELECT {DecisionColumns} FROM approval_decisions WHERE request_id = @id ORDER BY time, principal", cancellationToken, ("id", requestId));
        while (await r.ReadAsync(cancellationToken))
        {
            result.Add(new ApprovalDecisionRecord
            {
                RequestId = r.GetString(0),
                Principal = r.GetString(1),
                Decision = r.GetString(2),
                Role = NullableString(r, 3),
                TokenId = NullableString(r, 4),
                Time = ParseIso(r.GetString(5)),
                Reason = NullableString(r, 6),
            });
        }

        return result;
    }

    /// <summary>
    /// Records one person's decision on a pending request, in one transaction: a deny decides it (denied); an approve
    /// decides it (approved, executable until <paramref name="executeBy"/>) when it brings the distinct approvals to the
    /// request's required number. <paramref name="decidedEvents"/> are written only when the decision decided it.
    /// </summary>
    public async Task<ApprovalDecisionOutcome> RecordApprovalDecisionAsync(ApprovalDecisionRecord decision, DateTimeOffset executeBy, IReadOnlyList<EventRecord> decidedEvents, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using (var state = Command(c, "SELECT state, required FROM approval_requests WHERE tenant = @tenant AND id = @id", tx, [("tenant", Tenant), ("id", decision.RequestId)]))
        await using (var r = await state.ExecuteReaderAsync(cancellationToken))
        {
            if (!await r.ReadAsync(cancellationToken) || r.GetString(0) != "pending")
            {
                return ApprovalDecisionOutcome.NotPending;
            }
        }

        await using (var seen = Command(c, "SELECT 1 FROM approval_decisions WHERE request_id = @id AND principal = @principal", tx, [("id", decision.RequestId), ("principal", decision.Principal)]))
        {
            if (await seen.ExecuteScalarAsync(cancellationToken) is not null)
            {
                return ApprovalDecisionOutcome.Duplicate;
            }
        }

        await ExecAsync(c, $"INSERT INTO approval_decisions ({DecisionColumns}) VALUES (@id, @principal, @decision, @role, @tokenId, @time, @reason)", cancellationToken, tx,
            ("id", decision.RequestId), ("principal", decision.Principal), ("decision", decision.Decision), ("role", decision.Role), ("tokenId", decision.TokenId), ("time", Iso(decision.Time)), ("reason", decision.Reason));
        int changed;
        if (decision.Decision == "deny")
        {
            await using var deny = Command(c, "UPDATE approval_requests SET state = 'denied', finished = @time, reason = @reason WHERE id = @id AND state = 'pending'", tx,
                [("id", decision.RequestId), ("time", Iso(decision.Time)), ("reason", decision.Reason)]);
            changed = await deny.ExecuteNonQueryAsync(cancellationToken);
        }
        else
        {
            // A break-glass decision (the host's command line with the repository key, docs/approvals.md) approves alone.
            var enough = decision.Decision == "break-glass" ? "" : "AND (SELECT COUNT(*) FROM approval_decisions WHERE request_id = @id AND decision = 'approve') >= required";
            await using var approve = Command(c, $"""
                UPDATE approval_requests SET state = 'approved', approved = @time, execute_by = @executeBy
                WHERE id = @id AND state = 'pending' {enough}
                """, tx, [("id", decision.RequestId), ("time", Iso(decision.Time)), ("executeBy", Iso(executeBy))]);
            changed = await approve.ExecuteNonQueryAsync(cancellationToken);
        }

        if (changed > 0)
        {
            await InsertEventsAsync(c, tx, decidedEvents, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return changed > 0 ? ApprovalDecisionOutcome.Decided : ApprovalDecisionOutcome.Recorded;
    }

    /// <summary>
    /// Moves the request from <paramref name="from"/> to <paramref name="to"/> (executed, expired, voided) with the time and
    /// reason and <paramref name="events"/>, in one transaction; false when it was not in <paramref name="from"/> any more
    /// (someone else moved it first: an approved request executes once).
    /// </summary>
    public async Task<bool> MoveApprovalRequestAsync(string id, string from, string to, DateTimeOffset time, string? reason, IReadOnlyList<EventRecord> events, CancellationToken cancellationToken)
    {
        await using var c = await OpenAsync(cancellationToken);
        await using var tx = await c.BeginTransactionAsync(cancellationToken);
        await using var update = Command(c, "UPDATE approval_requests SET state = @to, finished = @time, reason = COALESCE(@reason, reason) WHERE tenant = @tenant AND id = @id AND state = @from", tx,
            [("tenant", Tenant), ("id", id), ("from", from), ("to", to), ("time", Iso(time)), ("reason", reason)]);
        var moved = await update.ExecuteNonQueryAsync(cancellationToken) == 1;
        if (moved)
        {
            await InsertEventsAsync(c, tx, events, cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return moved;
    }

    private static async Task<int> VoidOpenAsync(DbConnection c, DbTransaction tx, string tenant, string operation, DateTimeOffset time, string reason, CancellationToken cancellationToken)
    {
        await using var update = Command(c, "UPDATE approval_requests SET state = 'voided', finished = @time, reason = @reason WHERE tenant = @tenant AND operation = @operation AND state IN ('pending', 'approved')", tx,
            [("tenant", tenant), ("operation", operation), ("time", Iso(time)), ("reason", reason)]);
        return await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ApprovalPolicyRecord ReadPolicy(DbDataReader r) => new()
    {
        Tenant = r.GetString(0),
        Operation = r.GetString(1),
        Approvals = (int)r.GetInt64(2),
        Role = NullableString(r, 3),
        Users = NullableString(r, 4),
        ApproveWithinSeconds = r.GetInt64(5),
        ExecuteWithinSeconds = r.GetInt64(6),
        Version = r.GetString(7),
        Updated = ParseIso(r.GetString(8)),
        UpdatedBy = r.GetString(9),
    };

    private static ApprovalRequestRecord ReadRequest(DbDataReader r) => new()
    {
        Id = r.GetString(0),
        Tenant = r.GetString(1),
        Operation = r.GetString(2),
        Source = NullableString(r, 3),
        Description = r.GetString(4),
        Parameters = r.GetString(5),
        Hash = r.GetString(6),
        Subject = NullableString(r, 7),
        RequestedBy = r.GetString(8),
        Requester = r.GetString(9),
        PolicyVersion = r.GetString(10),
        Required = (int)r.GetInt64(11),
        Role = NullableString(r, 12),
        Users = NullableString(r, 13),
        State = r.GetString(14),
        Created = ParseIso(r.GetString(15)),
        ApproveBy = ParseIso(r.GetString(16)),
        Approved = NullableTime(r, 17),
        ExecuteBy = NullableTime(r, 18),
        Finished = NullableTime(r, 19),
        Reason = NullableString(r, 20),
        CorrelationId = r.GetString(21),
    };
}
