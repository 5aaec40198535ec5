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

    public void Validate(string configPath)
    {
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

        if (CertificateKeyPath is not null && CertificatePath is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"Server:CertificateKeyPath in {configPath} is set without Server:CertificatePath", "set Server:CertificatePath to the certificate the key belongs to");
        }
    }
}
