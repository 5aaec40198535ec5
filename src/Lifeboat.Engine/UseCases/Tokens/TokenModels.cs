using Lifeboat.Catalog;

namespace Lifeboat.Engine.UseCases.Tokens;

/// <param name="Expires">How long the token lives: 90d, 12h, 2w (Duration syntax); null: until revoked.</param>
/// <param name="Tenant">The tenant the token acts in; null: the workspace's own.</param>
public sealed record CreateTokenRequest(string Name, string Role, string? Tenant = null, string? Expires = null);

/// <summary>A token as listed: never its secret, nor its hash.</summary>
public sealed record TokenView(string Id, string Name, string Role, string Tenant, DateTimeOffset Created, string? CreatedBy, DateTimeOffset? Expires, DateTimeOffset? LastUsed, DateTimeOffset? Revoked)
{
    public bool Active(DateTimeOffset now) => Revoked is null && (Expires is not { } e || e > now);

    public static TokenView From(TokenRecord t) => new(t.Id, t.Name, t.Role, t.Tenant, t.Created, t.CreatedBy, t.Expires, t.LastUsed, t.Revoked);
}

/// <summary>A new token: <see cref="Token"/> (<c>lbt_…</c>) is shown this once and never stored.</summary>
public sealed record CreatedToken(string Id, string Name, string Role, string Tenant, DateTimeOffset Created, DateTimeOffset? Expires, string Token);

/// <param name="IncludeRevoked">Revoked tokens too (expired ones are always listed).</param>
/// <param name="Tenant">The tenant whose tokens to list; null: the workspace's own (another needs the superadmin role).</param>
public sealed record ListTokensRequest(bool IncludeRevoked = false, string? Tenant = null);

public sealed record ListTokensResult(IReadOnlyList<TokenView> Items);

public sealed record RevokeTokenRequest(string Id);

/// <param name="Token">The bearer token as presented (<c>lbt_…</c>).</param>
public sealed record AuthenticateTokenRequest(string Token);

/// <summary>Who a valid token is; null from <c>AuthenticateToken</c> when the token is unknown, expired or revoked.</summary>
public sealed record TokenIdentity(string Id, string Name, string Role, string Tenant);
