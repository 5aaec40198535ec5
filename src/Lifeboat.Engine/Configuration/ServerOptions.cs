using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>The <c>Server</c> section: what <c>lifeboat serve</c> needs beyond the workspace (docs/configuration.md).</summary>
public sealed class ServerOptions
{
    /// <summary>Requests per minute one client (a token, or an address without one) may make; 0: no limit.</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>The largest request body <c>POST /api/v1/backups/uploads</c> accepts (413 beyond it); other routes keep Kestrel's 30 MB.</summary>
    public long MaxUploadBytes { get; set; } = 64L << 30;

    /// <summary>
    /// How long <c>GET /api/v1/status</c> (and the dashboard) may answer with a status computed earlier, in seconds; 0:
    /// computed for every request. Status connects to every cluster and reads the catalog for every source, so many
    /// clients polling it would each pay for all of it; callers within this window share one computation (its time is
    /// the answer's <c>at</c>).
    /// </summary>
    public int StatusCacheSeconds { get; set; } = 5;

    /// <summary>A PKCS#12 (.pfx/.p12) or PEM certificate for HTTPS, used by every <c>https://</c> address of --urls.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>With a PEM certificate: its private key file (PEM); with a PKCS#12 one: unused.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>A file holding the password of the PKCS#12 file or the encrypted PEM key.</summary>
    public string? CertificatePasswordFile { get; set; }

    /// <summary>
    /// The address people reach the server at (<c>https://lifeboat.example.com</c>): events put links to the dashboard
    /// into their data with it (an approval request's page). Unset: events carry no links.
    /// </summary>
    public string? PublicUrl { get; set; }

    /// <summary>A dashboard link: <see cref="PublicUrl"/> joined with <paramref name="path"/> (starting with '/'), or null without one.</summary>
    public string? Link(string path) => PublicUrl is { } url ? url.TrimEnd('/') + path : null;

    /// <summary>OIDC / JWT bearer tokens from an identity provider, besides Lifeboat's own API tokens (off when unset).</summary>
    public JwtOptions? Jwt { get; set; }

    public void Validate(string configPath)
    {
        Jwt?.Validate(configPath);

        if (RequestsPerMinute < 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:RequestsPerMinute in {configPath} is {RequestsPerMinute}", "use 0 (no limit) or a positive number of requests per minute per client");
        }

        if (StatusCacheSeconds is < 0 or > 3600)
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:StatusCacheSeconds in {configPath} is {StatusCacheSeconds}", "use 0 (no cache) up to 3600 seconds; the default is 5");
        }

        if (MaxUploadBytes <= 0)
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:MaxUploadBytes in {configPath} is {MaxUploadBytes}", "use a positive number of bytes, for example 68719476736 (64 GiB)");
        }

        if (PublicUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Query.Length > 0 || uri.Fragment.Length > 0))
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:PublicUrl = '{url}' in {configPath} is not an http(s) address", "give the address people open the dashboard at, for example https://lifeboat.example.com");
        }

        if (CertificateKeyPath is not null && CertificatePath is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:CertificateKeyPath in {configPath} is set without Server:CertificatePath", "set Server:CertificatePath to the certificate the key belongs to");
        }
    }
}

/// <summary>
/// <c>Server:Jwt</c>: accept <c>Authorization: Bearer</c> JWTs signed by an identity provider (OIDC discovery at
/// <see cref="Authority"/>, or the keys of a JWKS file), for the audience Lifeboat is registered as. The role comes
/// from <see cref="RoleClaim"/> and must be one of Lifeboat's roles; the tenant from <see cref="TenantClaim"/>.
/// </summary>
public sealed class JwtOptions
{
    /// <summary>The issuer's URL: its keys are read from <c>{Authority}/.well-known/openid-configuration</c> (and refreshed).</summary>
    public string? Authority { get; set; }

    /// <summary>Instead of discovery: a JWKS file (<c>{"keys": [...]}</c>) holding the issuer's public keys.</summary>
    public string? SigningKeysFile { get; set; }

    /// <summary>The <c>iss</c> tokens must carry; defaults to the discovery document's issuer (with Authority).</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> tokens must carry (Lifeboat's client id or API identifier at the provider). Required.</summary>
    public string? Audience { get; set; }

    /// <summary>The claim holding the Lifeboat role (admin, operator, auditor, viewer).</summary>
    public string RoleClaim { get; set; } = "lifeboat_role";

    /// <summary>The claim naming the person (for the audit trail); <c>sub</c> when the token lacks it.</summary>
    public string NameClaim { get; set; } = "preferred_username";

    /// <summary>The claim naming the tenant; a token without it acts in the default tenant.</summary>
    public string TenantClaim { get; set; } = "lifeboat_tenant";

    /// <summary>Whether discovery must use HTTPS (turn off only for a provider on loopback).</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Clock skew allowed on <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    public void Validate(string configPath)
    {
        if ((Authority is null) == (SigningKeysFile is null))
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:Jwt in {configPath} needs exactly one of Authority and SigningKeysFile", "set Server:Jwt:Authority to the identity provider's issuer URL (OIDC discovery), or Server:Jwt:SigningKeysFile to a JWKS file");
        }

        if (string.IsNullOrWhiteSpace(Audience))
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:Jwt:Audience in {configPath} is not set", "set it to the audience (client id or API identifier) the identity provider puts in Lifeboat's tokens");
        }

        if (SigningKeysFile is not null && string.IsNullOrWhiteSpace(Issuer))
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:Jwt:Issuer in {configPath} is not set", "with SigningKeysFile, set Issuer to the `iss` the provider's tokens carry");
        }

        if (Authority is not null && (!Uri.TryCreate(Authority, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && (RequireHttpsMetadata || uri.Scheme != Uri.UriSchemeHttp))))
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:Jwt:Authority in {configPath} is '{Authority}'", "use the provider's https:// issuer URL (http:// only with RequireHttpsMetadata false, for a provider on loopback)");
        }
    }
}
