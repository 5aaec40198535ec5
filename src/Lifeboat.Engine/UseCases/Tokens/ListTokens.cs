using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <summary>`token list`: the tokens of a tenant, oldest first — never their secrets nor their hashes.</summary>
public sealed class ListTokens : IUseCase<ListTokensRequest, ListTokensResult>
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;

    public ListTokens(CallContext call, CatalogAccess catalog)
    {
        _call = call;
        _catalog = catalog;
    }

    public async Task<ListTokensResult> ExecuteAsync(ListTokensRequest request, CancellationToken cancellationToken)
    {
        var tenant = string.IsNullOrWhiteSpace(request.Tenant) ? _call.Workspace.Name : request.Tenant;
        TokenRules.RequireTenant(_call.Actor, _call.Workspace, tenant);
        var catalog = await TokenRules.CatalogOfAsync(await _catalog.OpenAsync(cancellationToken), tenant, null, cancellationToken);
        var tokens = await catalog.TokensAsync(tenant, request.IncludeRevoked, cancellationToken);
        return new ListTokensResult(tokens.Select(TokenView.From).ToList());
    }
}
