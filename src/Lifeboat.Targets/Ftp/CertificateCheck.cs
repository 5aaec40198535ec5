using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Lifeboat.Targets.Ftp;

/// <summary>
/// How an FTPS server's certificate is checked, one instance per control connection (its data connections use the
/// same options, so that TLS sessions resume): against the pinned fingerprint (<c>fingerprint=</c>), against the
/// certificates of a PEM file (<c>ca=</c>: a self-signed server certificate, or the CA that issued it; the host name
/// must match), or against the system's trust store. A refusal is kept, to be reported naming what was presented.
/// </summary>
internal sealed class CertificateCheck
{
    private readonly FtpLocation _location;

    public CertificateCheck(FtpLocation location)
    {
        _location = location;
        Options = new SslClientAuthenticationOptions
        {
            TargetHost = SessionHost(location.Host),
            RemoteCertificateValidationCallback = Validate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // TLS 1.2: a data connection resumes the control connection's session by its id, and every later one resumes
            // that same session again. Under TLS 1.3 each resumption yields a new session, .NET offers the newest one,
            // and vsftpd refuses a data connection resuming the previous data connection's session (522).
            EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12,
        };
    }

    public SslClientAuthenticationOptions Options { get; }

    /// <summary>
    /// The TLS target host of one control connection and its data connections: a name of its own,
    /// <c>RANDOM.HOST.invalid</c> (an IP address written with dashes). .NET resumes a TLS session for a later connection
    /// to the same target host, and only when that is a name, not an IP address; vsftpd (require_ssl_reuse=YES) refuses a
    /// data connection that does not resume the session of its own control connection, and a session of another
    /// control connection (another server process, other ticket keys) does not resume. A name per control connection
    /// keeps each connection's sessions apart. The certificate's name is checked here against the real host, so the
    /// made-up name only keys the session cache; it is also the SNI, which FTP servers do not use to pick a certificate.
    /// </summary>
    private static string SessionHost(string host)
        => $"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}.{host.Replace('.', '-').Replace(':', '-')}.invalid";

    private bool NameMatches(X509Certificate certificate)
    {
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return leaf.MatchesHostname(_location.Host, allowWildcards: true, allowCommonName: true);
    }

    /// <summary>Why the last certificate was refused, or null.</summary>
    public string? Rejection { get; private set; }

    /// <summary>The SHA-256 fingerprint of a certificate as the URL's fingerprint= takes it.</summary>
    public static string Fingerprint(X509Certificate certificate)
        => "SHA256:" + Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            Rejection = "the server presented no certificate";
            return false;
        }

        var presented = Fingerprint(certificate);
        if (_location.Fingerprint is { } pinned)
        {
            Rejection = presented == pinned ? null : $"the certificate of {_location.HostAndPort} does not match the pinned fingerprint: the server presented {presented}, the URL pins {pinned}";
            return Rejection is null;
        }

        var subject = certificate.Subject;
        if (_location.CaFile is { } file)
        {
            X509Certificate2Collection trusted;
            try
            {
                trusted = [];
                trusted.ImportFromPemFile(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
            {
                Rejection = $"cannot read the certificates of ca={file}: {ex.Message}";
                return false;
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(trusted);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var chained = custom.Build(leaf);
            if (!chained)
            {
                Rejection = $"the certificate of {_location.HostAndPort} ({subject}, {presented}) is not issued by a certificate in ca={file}: {string.Join("; ", custom.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
                return false;
            }

            if (!NameMatches(certificate))
            {
                Rejection = $"the certificate of {_location.HostAndPort} ({subject}) is not for the name '{_location.Host}'";
                return false;
            }

            Rejection = null;
            return true;
        }

        var chainErrors = errors & ~SslPolicyErrors.RemoteCertificateNameMismatch;
        Rejection = chainErrors != SslPolicyErrors.None ? $"the certificate of {_location.HostAndPort} ({subject}, {presented}) is not trusted by this machine ({chainErrors})"
            : !NameMatches(certificate) ? $"the certificate of {_location.HostAndPort} ({subject}) is not for the name '{_location.Host}'"
            : null;
        return Rejection is null;
    }
}
