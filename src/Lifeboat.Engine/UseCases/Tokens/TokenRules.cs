using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <summary>
/// What a caller may do with tokens beyond the endpoint's permission: a caller with a role (an API call) acts only in
/// its own tenant unless it is a superadmin, and never grants a role holding a permission it does not hold itself.
/// Callers without a role (the command line on the server's host, the system) may do anything.
/// </summary>
internal static class TokenRules
{
    public const string Prefix = "lbt_";

    public static string Hash(string token) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));

    public static string CreatedBy(Actor actor) => $"{actor.Kind}:{actor.Name}";

    /// <summary>Whether the actor may see and manage the tokens of <paramref name="tenant"/> from <paramref name="workspace"/>.</summary>
    public static bool MayManage(Actor actor, Workspace workspace, string tenant)
        => actor.Role is null or Roles.Superadmin || string.Equals(tenant, workspace.Name, StringComparison.Ordinal);

    /// <summary>Refuses (exit 2, HTTP 403) when the actor may not act in <paramref name="tenant"/>.</summary>
    public static void RequireTenant(Actor actor, Workspace workspace, string tenant)
    {
        if (!MayManage(actor, workspace, tenant))
        {
            throw new LifeboatException(ErrorCode.Refused, $"a token of tenant '{workspace.Name}' cannot manage the tokens of «tenant» '{tenant}'", "only a superadmin acts in another tenant; leave «tenant» out to use your own");
        }
    }

    /// <summary>
    /// The catalog scoped to <paramref name="tenant"/> (a superadmin or the host's command line acting in another
    /// tenant): exit 2 when there is no such tenant; a superadmin token belongs to the default tenant only (a tenant's
    /// tokens never manage tenants).
    /// </summary>
    public static async Task<Lifeboat.Catalog.LifeboatCatalog> CatalogOfAsync(Lifeboat.Catalog.LifeboatCatalog catalog, string tenant, string? role, CancellationToken cancellationToken)
    {
        if (tenant != Workspace.DefaultName && role == Roles.Superadmin)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"a token of «tenant» '{tenant}' cannot have the role '{Roles.Superadmin}': superadmins manage tenants from the server's own (default) tenant", "create the superadmin token without «tenant», and tokens in a tenant with another role");
        }

        if (tenant == catalog.Tenant)
        {
            return catalog;
        }

        if (tenant != Workspace.DefaultName && await catalog.TenantAsync(tenant, cancellationToken) is null)
        {
            throw new LifeboatException(ErrorCode.NotFound, $"there is no «tenant» '{tenant}'", "`lifeboat tenant list` shows the tenants");
        }

        return catalog.ForTenant(tenant);
    }

    /// <summary>
    /// The caller's audit entry of a token change made in another tenant: the action, the tenant and the role, never the
    /// token's id or name (the other tenant's own trail has them).
    /// </summary>
    public static AuditEntry InAnotherTenant(AuditEntry entry, string tenant) => entry with
    {
        Target = tenant,
        Parameters = new Dictionary<string, string?> { ["tenant"] = tenant, ["role"] = entry.Parameters?.GetValueOrDefault("role") },
    };

    /// <summary>Refuses a role holding a permission the actor does not hold (an admin cannot make a superadmin).</summary>
    public static void RequireGrantable(Actor actor, string role)
    {
        if (actor.Role is { } own && Permissions.All.Any(p => Permissions.Allows(role, p) && !Permissions.Allows(own, p)))
        {
            throw new LifeboatException(ErrorCode.Refused, $"a token with the role '{own}' cannot create a token with the «role» '{role}', which may do more", "ask for a role that holds no permission yours lacks");
        }
    }
}
