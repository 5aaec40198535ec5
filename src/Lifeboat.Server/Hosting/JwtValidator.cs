using System.Collections.Concurrent;
using Lifeboat.Engine.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Lifeboat.Server.Hosting;

/// <summary>Who a valid identity provider's JWT names: the person, their Lifeboat role and tenant, and the token's id.</summary>
public sealed record JwtIdentity(string Name, string Role, string? Tenant, string TokenId);

/// <summary>
/// Validates identity providers' JWTs (<c>Server:Jwt</c>): signature by one of the issuer's published keys (OIDC
/// discovery, fetched again every hour and — at most every 30 s — when a token names a key not seen yet, because the
/// provider rotated; or a JWKS file, re-read when it changes), asymmetric algorithms only (never
/// <c>none</c> or a shared secret), issuer, audience, expiry and not-before with the configured skew. A singleton: the
/// discovery documents and keys are kept between requests.
/// </summary>
public sealed class JwtValidator
{
    private static readonly string[] Algorithms =
    [
        SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
        SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
        SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
    ];

    private static readonly TimeSpan RefreshEvery = TimeSpan.FromHours(1);
    private static readonly TimeSpan RefreshAtMost = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (DateTimeOffset Fetched, OpenIdConnectConfiguration Configuration)> _discovery = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _forced = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public JwtValidator(TimeProvider time) => _time = time;
    private readonly ConcurrentDictionary<string, (DateTime Written, IList<SecurityKey> Keys)> _files = new(StringComparer.Ordinal);
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The identity, or the reason the token is refused (for the log; the caller answers 401 alike).</summary>
    public async Task<(JwtIdentity? Identity, string? Refusal)> ValidateAsync(JwtOptions options, string token, string configDirectory, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(token))
        {
            return (null, "not a JWT");
        }

        var parameters = new TokenValidationParameters
        {
            ValidateAudience = true,
            ValidAudience = options.Audience,
            ValidateIssuer = true,
            ValidIssuer = options.Issuer,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = options.ClockSkew,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            ValidAlgorithms = Algorithms,
        };
        var kid = _handler.ReadJsonWebToken(token).Kid;
        try
        {
            if (options.Authority is { } authority)
            {
                var discovered = await DiscoverAsync(options, authority, refresh: false, cancellationToken);
                if (kid is not null && discovered.SigningKeys.All(k => k.KeyId != kid))
                {
                    // A key not seen yet: the provider may have rotated. Fetch its keys again (at most every 30 s).
                    discovered = await DiscoverAsync(options, authority, refresh: true, cancellationToken);
                }

                parameters.ValidIssuer = options.Issuer ?? discovered.Issuer;
                parameters.IssuerSigningKeys = discovered.SigningKeys;
            }
            else
            {
                parameters.IssuerSigningKeys = KeysOf(Path.GetFullPath(options.SigningKeysFile!, configDirectory));
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException or HttpRequestException)
        {
            return (null, $"the identity provider's keys could not be read: {ex.Message}");
        }

        var result = await _handler.ValidateTokenAsync(token, parameters);

        if (!result.IsValid)
        {
            return (null, result.Exception?.Message ?? "invalid");
        }

        string? Claim(string type) => result.Claims.TryGetValue(type, out var v) ? v?.ToString() : null;
        var role = Claim(options.RoleClaim);
        if (role is null)
        {
            return (null, $"the token has no {options.RoleClaim} claim");
        }

        var name = Claim(options.NameClaim) ?? Claim("sub") ?? "?";
        return (new JwtIdentity(name, role, Claim(options.TenantClaim), "jwt:" + (Claim("jti") ?? Claim("sub") ?? "?")), null);
    }

    private async Task<OpenIdConnectConfiguration> DiscoverAsync(JwtOptions options, string authority, bool refresh, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_discovery.TryGetValue(authority, out var known))
        {
            var fresh = refresh
                ? _forced.TryGetValue(authority, out var last) && now - last < RefreshAtMost
                : now - known.Fetched < RefreshEvery;
            if (fresh)
            {
                return known.Configuration;
            }
        }

        if (refresh)
        {
            _forced[authority] = now;
        }

        var configuration = await OpenIdConnectConfigurationRetriever.GetAsync(
            authority.TrimEnd('/') + "/.well-known/openid-configuration",
            new HttpDocumentRetriever { RequireHttps = options.RequireHttpsMetadata },
            cancellationToken);
        _discovery[authority] = (now, configuration);
        return configuration;
    }

    private IList<SecurityKey> KeysOf(string path)
    {
        var written = File.GetLastWriteTimeUtc(path);
        if (_files.TryGetValue(path, out var known) && known.Written == written)
        {
            return known.Keys;
        }

        var keys = new JsonWebKeySet(File.ReadAllText(path)).GetSigningKeys();
        _files[path] = (written, keys);
        return keys;
    }
}
