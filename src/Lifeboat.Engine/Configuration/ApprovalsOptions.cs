using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.Configuration;

/// <summary>
/// <c>Approvals</c>: approval policies written in the configuration file (docs/approvals.md, "Policies in
/// lifeboat.json"). They are the file's: the API and `approvals policy set|remove` cannot change or remove them, and a
/// change of the file is applied to the catalog on the next check, with an event.
/// </summary>
public sealed class ApprovalsOptions
{
    /// <summary>Policies:OPERATION (or <c>default</c>, every operation of the default set; a named operation overrides it).</summary>
    public Dictionary<string, ApprovalPolicyOptions> Policies { get; set; } = new(StringComparer.Ordinal);

    internal void Validate(string configPath)
    {
        foreach (var (operation, policy) in Policies)
        {
            var at = $"Approvals:Policies:{operation}";
            if (operation != "default" && !DestructiveOperations.All.Contains(operation, StringComparer.Ordinal))
            {
                throw new LifeboatException(ErrorCode.Config, $"{at} in {configPath} names no operation a policy can have", "use default or one of: " + string.Join(", ", DestructiveOperations.All));
            }

            policy.Validate(at, configPath);
        }
    }
}

/// <summary>One policy: <see cref="Approvals"/> approvals from people holding <see cref="Role"/> (or stronger) and/or named <see cref="Users"/>.</summary>
public sealed class ApprovalPolicyOptions
{
    /// <summary>How many approvals are needed (1–10); the requester never counts.</summary>
    public int Approvals { get; set; } = 1;

    /// <summary>The role whose holders (or stronger) may approve: superadmin, admin, operator or auditor.</summary>
    public string? Role { get; set; }

    /// <summary>People who may approve, by principal (a token's name, <c>cli:USER</c>).</summary>
    public List<string> Users { get; set; } = [];

    /// <summary>How long a request waits for its approvals (1 minute to 30 days; default 24 hours).</summary>
    public TimeSpan? ApproveWithin { get; set; }

    /// <summary>How long an approved request may wait to be executed (1 minute to 30 days; default 1 hour).</summary>
    public TimeSpan? ExecuteWithin { get; set; }

    internal void Validate(string at, string configPath)
    {
        if (Approvals is < 1 or > 10)
        {
            throw new LifeboatException(ErrorCode.Config, $"{at}:Approvals = {Approvals} in {configPath} is out of range", "ask for 1 to 10 approvals (the requester never counts)");
        }

        if (Role is { } role && (!Roles.IsKnown(role) || role == Roles.Viewer))
        {
            throw new LifeboatException(ErrorCode.Config, $"{at}:Role = '{role}' in {configPath} cannot approve", "use one of: superadmin, admin, operator, auditor");
        }

        if (Users.FirstOrDefault(u => u.Trim().Length == 0 || u.Contains(',', StringComparison.Ordinal)) is { } bad)
        {
            throw new LifeboatException(ErrorCode.Config, $"{at}:Users holds '{bad}' in {configPath}", "name one person per entry, without commas");
        }

        var users = Users.Select(u => u.Trim()).Distinct(StringComparer.Ordinal).Count();
        if (Role is null && users == 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"{at} in {configPath} has neither Role nor Users: nobody could approve", "add \"Role\": \"admin\" or a list of \"Users\"");
        }

        if (Role is null && users < Approvals)
        {
            throw new LifeboatException(ErrorCode.Config, $"{at} in {configPath} asks {Approvals} approvals of only {users} named user(s)", "name more Users, add a Role, or ask for fewer Approvals");
        }

        foreach (var (name, window) in new[] { ("ApproveWithin", ApproveWithin), ("ExecuteWithin", ExecuteWithin) })
        {
            if (window is { } w && (w < TimeSpan.FromMinutes(1) || w > TimeSpan.FromDays(30)))
            {
                throw new LifeboatException(ErrorCode.Config, $"{at}:{name} = {w} in {configPath} is out of range", "use 1 minute to 30 days, for example \"04:00:00\"");
            }
        }
    }
}
