using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>
/// The approval policies of the configuration file (<c>Approvals:Policies</c>, docs/approvals.md): brought into the
/// catalog, where the gate reads every policy, before each check. A policy of the file has the version
/// <c>config-HASH</c> (a policy set by `approvals policy set` never does), which is how a policy the file no longer
/// holds is told from one set through the API: the first is removed, the second kept. The file wins over the API for
/// the operations it names, and the API cannot change or remove those (<see cref="EnsureNotConfigured"/>). A change is
/// an event (a removal a warning) and an audit entry by <c>lifeboat.json</c>; it voids the open requests of the
/// operations it changes, as any policy change does.
/// </summary>
public sealed class ConfiguredApprovalPolicies
{
    /// <summary>The version prefix of the file's policies; `approvals policy set` makes random versions without it.</summary>
    public const string VersionPrefix = "config-";

    /// <summary>Who the file's policies are updated by, in the catalog and the audit trail.</summary>
    public const string UpdatedBy = "lifeboat.json";

    private readonly CallContext _call;
    private readonly Events _events;
    private readonly AuditTrail _audit;
    private readonly TimeProvider _time;

    public ConfiguredApprovalPolicies(CallContext call, Events events, AuditTrail audit, TimeProvider time)
    {
        _call = call;
        _events = events;
        _audit = audit;
        _time = time;
    }

    /// <summary>True when the policy came from the configuration file.</summary>
    public static bool IsConfigured(ApprovalPolicyRecord policy) => policy.Version.StartsWith(VersionPrefix, StringComparison.Ordinal);

    /// <summary>The operations the configuration file sets a policy for (<c>default</c> expanded).</summary>
    public IReadOnlySet<string> Operations => Desired(_call.Workspace.OptionsOrEmpty.Approvals, _call.Workspace.Name, _time.GetUtcNow()).Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Refuses (exit 2) to change or remove through the API a policy that the configuration file sets.</summary>
    public void EnsureNotConfigured(IEnumerable<string> operations, string what)
    {
        var configured = Operations;
        var named = operations.Where(configured.Contains).ToList();
        if (named.Count > 0)
        {
            throw new LifeboatException(ErrorCode.Refused,
                $"cannot {what} the approval policy of {string.Join(", ", named)}: it is set in {_call.Workspace.ConfigPath} (Approvals:Policies)",
                "change it in the configuration file, which only the host's administrator can edit; a change there is an event and an audit entry");
        }
    }

    /// <summary>Makes the catalog's policies of this tenant agree with the configuration file; returns the catalog's policies afterwards.</summary>
    public async Task<List<ApprovalPolicyRecord>> ApplyAsync(LifeboatCatalog catalog, CancellationToken cancellationToken)
    {
        var tenant = _call.Workspace.Name;
        for (var attempt = 0; ; attempt++)
        {
            var existing = await catalog.ApprovalPoliciesAsync(tenant, cancellationToken);
            var now = _time.GetUtcNow();
            var desired = Desired(_call.Workspace.OptionsOrEmpty.Approvals, tenant, now);
            var byOperation = existing.ToDictionary(p => p.Operation, StringComparer.Ordinal);
            var changes = new List<(string Operation, string? Expected, ApprovalPolicyRecord? Policy)>();
            foreach (var (operation, policy) in desired)
            {
                var current = byOperation.GetValueOrDefault(operation);
                if (current?.Version != policy.Version)
                {
                    changes.Add((operation, current?.Version, policy));
                }
            }

            var removed = existing.Where(p => IsConfigured(p) && !desired.ContainsKey(p.Operation)).Select(p => p.Operation).ToList();
            changes.AddRange(removed.Select(op => (op, (string?)byOperation[op].Version, (ApprovalPolicyRecord?)null)));
            if (changes.Count == 0)
            {
                return existing;
            }

            var changed = changes.Where(c => c.Policy is not null).Select(c => c.Operation).ToList();
            var detail = string.Join("; ", new[]
            {
                changed.Count == 0 ? null : "set: " + string.Join(", ", changed.Select(op => $"{op} ({Describe(desired[op])})")),
                removed.Count == 0 ? null : "removed: " + string.Join(", ", removed),
            }.Where(s => s is not null));
            var applied = false;
            await _events.PublishWithAsync(
                new ConfigurationChanged("approval_policy", removed.Count > 0 ? "removed" : "changed", "lifeboat.json", Detail: detail),
                async events => applied = await catalog.ApplyApprovalPoliciesAsync(tenant, changes, now, "the approval policy in the configuration file changed", events, cancellationToken));
            if (applied)
            {
                await _audit.RecordAsync(new AuditEntry("approvals.policy.configure", "lifeboat.json", new Dictionary<string, string?>
                {
                    ["set"] = changed.Count == 0 ? null : string.Join(",", changed),
                    ["removed"] = removed.Count == 0 ? null : string.Join(",", removed),
                }, AuditResults.Succeeded, 200), false, cancellationToken);
                return await catalog.ApprovalPoliciesAsync(tenant, cancellationToken);
            }

            if (attempt == 2)
            {
                // Another process keeps changing them: the file is applied on the next check; the catalog's rows stand.
                return await catalog.ApprovalPoliciesAsync(tenant, cancellationToken);
            }
        }
    }

    private static string Describe(ApprovalPolicyRecord p) => $"{p.Approvals} approval(s) from {ApprovalRules.Describe(p.Role, p.Users)}";

    /// <summary>The file's policies by operation: <c>default</c> first, then the named operations over it.</summary>
    private static Dictionary<string, ApprovalPolicyRecord> Desired(ApprovalsOptions options, string tenant, DateTimeOffset now)
    {
        var result = new Dictionary<string, ApprovalPolicyRecord>(StringComparer.Ordinal);
        foreach (var (name, policy) in options.Policies.OrderBy(p => p.Key == "default" ? 0 : 1))
        {
            foreach (var operation in name == "default" ? DestructiveOperations.Defaults : [name])
            {
                result[operation] = Record(tenant, operation, policy, now);
            }
        }

        return result;
    }

    private static ApprovalPolicyRecord Record(string tenant, string operation, ApprovalPolicyOptions policy, DateTimeOffset now)
    {
        var users = policy.Users.Select(u => u.Trim()).Where(u => u.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var usersText = users.Count == 0 ? null : string.Join(",", users);
        var approveWithin = (long)(policy.ApproveWithin ?? ApprovalRules.DefaultApproveWithin).TotalSeconds;
        var executeWithin = (long)(policy.ExecuteWithin ?? ApprovalRules.DefaultExecuteWithin).TotalSeconds;
        var content = string.Join('\n', operation, policy.Approvals.ToString(CultureInfo.InvariantCulture), policy.Role ?? "", usersText ?? "",
            approveWithin.ToString(CultureInfo.InvariantCulture), executeWithin.ToString(CultureInfo.InvariantCulture));
        return new ApprovalPolicyRecord
        {
            Tenant = tenant,
            Operation = operation,
            Approvals = policy.Approvals,
            Role = policy.Role,
            Users = usersText,
            ApproveWithinSeconds = approveWithin,
            ExecuteWithinSeconds = executeWithin,
            Version = VersionPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..12],
            Updated = now,
            UpdatedBy = UpdatedBy,
        };
    }
}
