using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Approvals;

/// <summary>
/// What the gate and the approval use cases share: the hash of an operation, who may approve, the current identity of
/// an approver, and the settling of a request whose windows ended or whose policy or subject changed.
/// </summary>
public sealed class ApprovalRules
{
    public const string Approve = "approve";
    public const string Deny = "deny";

    /// <summary>The host's override (<see cref="BreakGlassApproval"/>): approves alone, loudly.</summary>
    public const string BreakGlass = "break-glass";

    public static readonly TimeSpan DefaultApproveWithin = TimeSpan.FromHours(24);
    public static readonly TimeSpan DefaultExecuteWithin = TimeSpan.FromHours(1);

    private readonly CallContext _call;
    private readonly Events _events;
    private readonly TimeProvider _time;

    public ApprovalRules(CallContext call, Events events, TimeProvider time)
    {
        _call = call;
        _events = events;
        _time = time;
    }

    /// <summary>
    /// SHA-256 of the operation as it will run: its name, its source and every parameter (sorted by name, each with its
    /// length so that no two different operations encode alike).
    /// </summary>
    public static string Hash(DestructiveOperation operation)
    {
        var text = new StringBuilder();
        void Add(string? value) => text.Append(value is null ? "-1:" : $"{value.Length}:{value}").Append('\n');
        Add(operation.Operation);
        Add(operation.Source);
        foreach (var (key, value) in operation.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            Add(key);
            Add(value);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The version of a policy as a request records it: the policy's operation and its version.</summary>
    /// <summary>The request's dashboard page, from the server's Server:PublicUrl (a tenant's server is its host's), or null.</summary>
    public static string? Link(Workspace workspace, string id) => (workspace.Host ?? workspace).OptionsOrEmpty.Server.Link("/approvals/" + Uri.EscapeDataString(id));

    public static string PolicyVersion(ApprovalPolicyRecord policy) => policy.Operation + "@" + policy.Version;

    public static IReadOnlyList<string> SplitUsers(string? users)
        => string.IsNullOrEmpty(users) ? [] : users.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Whether a person (principal, with <paramref name="role"/>) may approve under the role and users given.</summary>
    public static bool Qualifies(string principal, string? role, string? requiredRole, string? users)
    {
        if (SplitUsers(users).Contains(principal, StringComparer.Ordinal))
        {
            return true;
        }

        // A role qualifies when it holds every permission of the required role (a superadmin for admin, an admin for operator).
        return requiredRole is not null && role is not null && Roles.IsKnown(role)
               && Permissions.All.All(p => !Permissions.Allows(requiredRole, p) || Permissions.Allows(role, p));
    }

    public static string Describe(string? requiredRole, string? users)
        => (requiredRole, SplitUsers(users)) switch
        {
            (not null, { Count: 0 }) => $"the role {requiredRole}",
            (null, var u) => string.Join(", ", u),
            (var r, var u) => $"the role {r} or {string.Join(", ", u)}",
        };

    /// <summary>
    /// The caller as an approver now: its principal and its role as the catalog has it at this moment (a token revoked,
    /// expired or of another tenant is refused) — never the role the token had when the request was made.
    /// </summary>
    public async Task<(string Principal, string? Role, string? TokenId)> CurrentApproverAsync(LifeboatCatalog catalog, CancellationToken cancellationToken)
    {
        var actor = _call.Actor;
        var principal = ApprovalPrincipal.Of(actor);
        if (actor.Kind != "token")
        {
            return (principal, actor.Role, actor.TokenId);
        }

        var token = actor.TokenId is null ? null : await catalog.TokenAsync(actor.TokenId, cancellationToken);
        if (token is null || token.Revoked is not null || token.Expires is { } e && e <= _time.GetUtcNow())
        {
            throw new LifeboatException(ErrorCode.Refused, $"the token of '{actor.Name}' is revoked or expired: it cannot decide on approvals", "use a valid token of your own");
        }

        if (token.Tenant != _call.Workspace.Name)
        {
            throw new LifeboatException(ErrorCode.Refused, $"'{actor.Name}' belongs to the tenant '{token.Tenant}': an approval counts only from the tenant's own people (tenant '{_call.Workspace.Name}')", "ask someone of this tenant to approve");
        }

        return (token.Name, token.Role, token.Id);
    }

    /// <summary>
    /// Settles a pending or approved request against the rules of now: past its window it expires; under a policy that
    /// changed (or is gone), or about a source whose configuration changed, or a backup that is gone, it is void. Each
    /// change is written with its event. Returns the request as it stands.
    /// </summary>
    public async Task<ApprovalRequestRecord> SettleAsync(LifeboatCatalog catalog, ApprovalRequestRecord request, CancellationToken cancellationToken)
    {
        if (request.State is not (ApprovalStates.Pending or ApprovalStates.Approved))
        {
            return request;
        }

        var now = _time.GetUtcNow();
        if (request.State == ApprovalStates.Pending && now > request.ApproveBy)
        {
            return await MoveAsync(catalog, request, ApprovalStates.Expired, "expired", $"nobody approved it before {request.ApproveBy:yyyy-MM-dd HH:mm:ss}Z", cancellationToken);
        }

        if (request.State == ApprovalStates.Approved && request.ExecuteBy is { } by && now > by)
        {
            return await MoveAsync(catalog, request, ApprovalStates.Expired, "expired", $"it was approved but not executed before {by:yyyy-MM-dd HH:mm:ss}Z", cancellationToken);
        }

        // The request names the policy that decided it (operation@version: a policy change can be decided by another
        // operation's policy); a change of that policy voids it.
        var decidedBy = request.PolicyVersion.Split('@')[0];
        var policy = await catalog.ApprovalPolicyAsync(request.Tenant, decidedBy, cancellationToken);
        if (policy is null || PolicyVersion(policy) != request.PolicyVersion)
        {
            return await MoveAsync(catalog, request, ApprovalStates.Voided, "voided", "the approval policy of the operation changed since the request", cancellationToken);
        }

        if (request.Source is { } source && Subject(source) != request.Subject)
        {
            return await MoveAsync(catalog, request, ApprovalStates.Voided, "voided", $"the configuration of the source '{source}' changed since the request", cancellationToken);
        }

        var parameters = JsonSerializer.Deserialize(request.Parameters, LifeboatJson.Compact.IReadOnlyDictionaryStringString);
        if (request.Source is { } of && request.Operation is DestructiveOperations.RestoreOverwrite or DestructiveOperations.Forget
            && parameters is not null && parameters.TryGetValue("backup", out var ids) && !string.IsNullOrEmpty(ids) && ids != "latest")
        {
            var known = (await catalog.BackupsAsync(of, cancellationToken)).Select(b => b.Id).ToHashSet(StringComparer.Ordinal);
            if (known.Count > 0 && ids.Split(',').FirstOrDefault(id => !known.Contains(id)) is { } gone)
            {
                return await MoveAsync(catalog, request, ApprovalStates.Voided, "voided", $"the backup {gone} is no longer in the catalog", cancellationToken);
            }
        }

        return request;
    }

    /// <summary>A fingerprint of the source's configuration (SHA-256 of its JSON), or null when it has none.</summary>
    public string? Subject(string source)
    {
        try
        {
            var path = _call.Workspace.ConfigPath;
            if (!File.Exists(path))
            {
                return null;
            }

            var root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var sources = root?.AsObject().FirstOrDefault(p => string.Equals(p.Key, "Sources", StringComparison.OrdinalIgnoreCase)).Value as JsonObject;
            var node = sources?.FirstOrDefault(p => p.Key == source).Value;
            return node is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString())));
        }
        catch (Exception ex) when (ex is IOException or JsonException or InvalidOperationException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public async Task<ApprovalRequestRecord> MoveAsync(LifeboatCatalog catalog, ApprovalRequestRecord request, string to, string change, string reason, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var by = ApprovalPrincipal.Of(_call.Actor);
        var moved = false;
        await _events.PublishWithAsync(
            new ApprovalChanged(request.Id, change, request.Operation, request.Source, request.RequestedBy, by, reason),
            async events => moved = await catalog.MoveApprovalRequestAsync(request.Id, request.State, to, now, reason, events, cancellationToken));
        return moved ? request with { State = to, Finished = now, Reason = reason } : await catalog.ApprovalRequestAsync(request.Tenant, request.Id, cancellationToken) ?? request;
    }

    public async Task<ApprovalView> ViewAsync(LifeboatCatalog catalog, ApprovalRequestRecord request, CancellationToken cancellationToken)
        => ApprovalView.From(request, await catalog.ApprovalDecisionsAsync(request.Id, cancellationToken));

    public static LifeboatException NotFound(string id)
        => new(ErrorCode.NotFound, $"there is no approval request '{id}' («id») in this tenant", "`lifeboat approvals list` shows the tenant's requests");
}
