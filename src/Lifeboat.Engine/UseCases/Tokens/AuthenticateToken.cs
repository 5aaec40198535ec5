using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <summary>
/// Who a bearer token is: found by the SHA-256 of the presented string (so no secret is compared), valid when neither
/// revoked nor expired. Null for anything else. Records the last use, at most once a minute per token.
/// </summary>
public sealed class AuthenticateToken : IUseCase<AuthenticateTokenRequest, TokenIdentity?>
{
    /// <summary>How precisely the last use is kept: one catalog write per token per this, whatever the request rate.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public AuthenticateToken(CatalogAccess catalog, TimeProvider time)
    {
        _catalog = catalog;
        _time = time;
    }

    public async Task<TokenIdentity?> ExecuteAsync(AuthenticateTokenRequest request, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.Token) || !request.Token.StartsWith(TokenRules.Prefix, StringComparison.Ordinal) || request.Token.Length > 200)
        {
            return null;
        }

        var catalog = await _catalog.OpenAsync(cancellationToken);
        var token = await catalog.TokenByHashAsync(TokenRules.Hash(request.Token), cancellationToken);
        var now = _time.GetUtcNow();
        if (token is null || token.Revoked is not null || token.Expires is { } e && e <= now)
        {
            return null;
        }

        if (token.LastUsed is not { } last || now - last >= LastUsedResolution)
        {
            await catalog.TouchTokenAsync(token.Id, now, LastUsedResolution, cancellationToken);
        }

        return new TokenIdentity(token.Id, token.Name, token.Role, token.Tenant);
    }
}
