namespace Lifeboat.Engine.Application;

/// <summary>
/// The server's roles (API.md): what a token may do inside its tenant. <see cref="Superadmin"/> is system-wide and
/// manages tenants. The permission table is in docs/api.md; <see cref="Permissions"/> is its code.
/// </summary>
public static class Roles
{
    public const string Superadmin = "superadmin";
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Auditor = "auditor";
    public const string Viewer = "viewer";

    /// <summary>The roles a token can have, most powerful first.</summary>
    public static readonly IReadOnlyList<string> All = [Superadmin, Admin, Operator, Auditor, Viewer];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}

/// <summary>What an endpoint needs; each role holds some of them (docs/api.md, "Roles and permissions").</summary>
public static class Permissions
{
    /// <summary>Read status, sources, stacks, backups, drills, runs, jobs, schedules, targets, events.</summary>
    public const string Read = "read";

    /// <summary>Read the audit trail and the tokens.</summary>
    public const string ReadAudit = "read-audit";

    /// <summary>Start backups, restores, drills, verify, expire, replicate; cancel jobs; change schedules.</summary>
    public const string Operate = "operate";

    /// <summary>Configure: sources, stacks, targets, retention, tokens, maintenance; forget backups.</summary>
    public const string Administer = "administer";

    /// <summary>Manage tenants.</summary>
    public const string ManageTenants = "manage-tenants";

    public static readonly IReadOnlyList<string> All = [Read, ReadAudit, Operate, Administer, ManageTenants];

    /// <summary>Whether <paramref name="role"/> holds <paramref name="permission"/>.</summary>
    public static bool Allows(string role, string permission) => role switch
    {
        Roles.Superadmin => true,
        Roles.Admin => permission != ManageTenants,
        Roles.Operator => permission is Read or Operate,
        Roles.Auditor => permission is Read or ReadAudit,
        Roles.Viewer => permission is Read,
        _ => false,
    };
}
