using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <summary>
/// `token revoke`: the token stops authenticating at once. Revoking it again is harmless and keeps the first time.
/// Audited (<c>token.revoke</c>); the first revocation is published (<c>token.revoked</c>).
/// </summary>
public sealed class RevokeToken : IUseCase<RevokeTokenRequest, TokenView>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly AuditTrail _audit;
    private readonly Events _events;
    private readonly TimeProvider _time;

    public RevokeToken(CallContext call, CatalogAccess catalog, AuditTrail audit, Events events, TimeProvider time)
    {
        _call = call;
        _catalog = catalog;
        _audit = audit;
        _events = events;
        _time = time;
    }

    public async Task<TokenView> ExecuteAsync(RevokeTokenRequest request, CancellationToken cancellationToken)
    {
        var catalog = await _catalog.OpenAsync(cancellationToken);
        // The host's command line and a superadmin (of the server's own tenant) revoke a token of any tenant; anyone
        // else looks in the call's tenant only.
        var anyTenant = _call.Actor.Role is null or Roles.Superadmin && _call.Workspace.Name == Workspace.DefaultName;
        var before = string.IsNullOrWhiteSpace(request.Id) ? null : anyTenant ? await catalog.TokenOfAnyTenantAsync(request.Id, cancellationToken) : await catalog.TokenAsync(request.Id, cancellationToken);
        // Another tenant's token is "not found", as the API answers for every object of another tenant.
        if (before is null || !TokenRules.MayManage(_call.Actor, _call.Workspace, before.Tenant))
        {
            throw new LifeboatException(ErrorCode.NotFound, $"there is no token with the «id» '{request.Id}'", "`lifeboat token list --all` shows the tokens and their ids");
        }

        catalog = catalog.ForTenant(before.Tenant);
        // Published with the revocation, in one transaction, the first time only.
        // In the token's tenant's log and trail (the caller's trail says only that one was revoked there: CreateToken).
        await _events.PublishWithAsync(new TokenRevoked(before.Id, before.Name, before.Tenant), before.Tenant, events => catalog.RevokeTokenAsync(before.Id, _time.GetUtcNow(), events, cancellationToken));
        var after = await catalog.TokenAsync(before.Id, cancellationToken) ?? before;
        var entry = new AuditEntry(AuditActions.TokenRevoke, after.Id, new Dictionary<string, string?>
        {
            ["name"] = after.Name,
            ["tenant"] = after.Tenant,
            ["alreadyRevoked"] = before.Revoked is null ? "false" : "true",
        }, AuditResults.Succeeded, 200);
        await _audit.RecordAsync(entry, after.Tenant, true, cancellationToken);
        if (after.Tenant != _call.Workspace.Name)
        {
            await _audit.RecordAsync(TokenRules.InAnotherTenant(entry, after.Tenant), true, cancellationToken);
        }

        return TokenView.From(after);
    }
}
