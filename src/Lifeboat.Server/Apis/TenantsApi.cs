using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Tenants;
using Lifeboat.Engine.UseCases.Tokens;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>
/// Tenants (docs/tenants.md), for superadmins only (<c>manage-tenants</c>): the registry, usage, quotas, suspension and
/// removal. Every other route acts in the tenant of the caller's token and takes no tenant parameter.
/// </summary>
public static class TenantsApi
{
    /// <summary>A request body for suspend, resume and remove.</summary>
    public sealed record TenantChangeBody(string? Reason = null);

    /// <summary>A request body for a token made in a tenant by a superadmin.</summary>
    public sealed record TenantTokenBody(string Name, string Role, string? Expires = null);

    public static RouteGroupBuilder MapTenantsApi(this RouteGroupBuilder api)
    {
        var tenants = api.MapGroup("/tenants").WithTags("tenants").RequireAuthorization(Permissions.ManageTenants);
        tenants.MapGet("", async (string? search, string? state, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.ListAsync(new ListTenantsRequest(search, state), ct)))
            .WithName("ListTenants").WithSummary("The tenants, by name; `search` matches a part of the name or display name");
        tenants.MapPost("", async (AddTenantRequest request, TenantAdmin use, CancellationToken ct) =>
            {
                var added = await use.AddAsync(request, ct);
                return TypedResults.Created($"/api/v1/tenants/{added.Tenant.Name}", added);
            })
            .WithName("AddTenant").WithSummary("Add a tenant: its directory, configuration, key file and repository (with its own master key)");
        tenants.MapGet("/{name}", async (string name, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.ShowAsync(new TenantRequest(name), ct)))
            .WithName("GetTenant").WithSummary("One tenant with its usage");
        tenants.MapGet("/{name}/usage", async (string name, TenantAdmin use, CancellationToken ct) => TypedResults.Ok((await use.ShowAsync(new TenantRequest(name), ct)).Usage))
            .WithName("GetTenantUsage").WithSummary("A tenant's usage: stored and logical bytes, dedup ratio, sources, backups, last backup and drill, API calls (30 days)");
        tenants.MapPatch("/{name}", async (string name, SetTenantQuotasRequest request, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.SetQuotasAsync(request with { Name = name }, ct)))
            .WithName("SetTenantQuotas").WithSummary("Change a tenant's quotas (`quotaStored: \"none\"` removes that one)");
        tenants.MapPost("/{name}/suspend", async (string name, TenantChangeBody body, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.SuspendAsync(new ChangeTenantRequest(name, body.Reason), ct)))
            .WithName("SuspendTenant").WithSummary("Suspend a tenant: it reads but writes nothing, its schedules are skipped; WAL archiving goes on");
        tenants.MapPost("/{name}/resume", async (string name, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.ResumeAsync(new ChangeTenantRequest(name), ct)))
            .WithName("ResumeTenant").WithSummary("Resume a suspended tenant, or keep one being removed");
        tenants.MapDelete("/{name}", async (string name, TenantAdmin use, CancellationToken ct) => TypedResults.Ok(await use.RemoveAsync(new ChangeTenantRequest(name), ct)))
            .WithName("RemoveTenant").WithSummary("Remove a tenant (approval-gated): its tokens are revoked now, its data deleted after the grace period");
        tenants.MapPost("/{name}/tokens", async (string name, TenantTokenBody body, CreateToken use, CancellationToken ct) => TypedResults.Created($"/api/v1/tenants/{name}/tokens", await use.ExecuteAsync(new CreateTokenRequest(body.Name, body.Role, name, body.Expires), ct)))
            .WithName("CreateTenantToken").WithSummary("Create a token in a tenant (a superadmin acts inside a tenant only through one)");
        return api;
    }
}
