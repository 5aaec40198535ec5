using System.Text.RegularExpressions;

namespace Lifeboat.Targets.Ftp;

/// <summary>
/// Where an FTP target is and how its server is recognised, parsed from
/// <c>ftps://user@host[:port]/path?ca=CA_FILE</c> (or <c>&amp;fingerprint=SHA256:…</c>), or
/// <c>ftp://user@host[:port]/path?insecure=true</c>. FTPS is explicit TLS (AUTH TLS on the control port, 21 by default;
/// the data connections protected too, PROT P); plain FTP sends the password and the data in clear text, so it is
/// refused unless the URL says <c>insecure=true</c>. Holds no secret: the password comes from LIFEBOAT_FTP_PASSWORD.
/// </summary>
public sealed partial record FtpLocation
{
    public required string User { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 21;

    /// <summary>The directory on the server (as the server shows it after login, e.g. inside a chroot), without a trailing '/'.</summary>
    public required string Path { get; init; }

    /// <summary>False only for <c>ftp://…?insecure=true</c>.</summary>
    public bool Tls { get; init; } = true;

    /// <summary>A PEM file of certificates to trust for this server (its own self-signed one, or the CA that signed it).</summary>
    public string? CaFile { get; init; }

    /// <summary>The pinned SHA-256 fingerprint of the server's certificate (<c>SHA256:</c> and 64 hex digits, colons allowed).</summary>
    public string? Fingerprint { get; init; }

    public string DisplayName => $"{(Tls ? "ftps" : "ftp")}://{User}@{HostAndPort}{Path}";

    public string HostAndPort => Port == 21 ? Host : $"{Host}:{Port}";

    internal static FtpLocation Parse(TargetUrl url)
    {
        var tls = url.Scheme == "ftps";
        url.AllowOnly(tls ? ["ca", "fingerprint"] : ["insecure"]);
        if (!tls && !url.GetBool("insecure"))
        {
            throw url.Error(
                $"'{url.Redacted}' is plain FTP: the password and every backup would cross the network unencrypted",
                "use ftps://… (explicit TLS), or, on a network you trust, write ftp://…?insecure=true");
        }

        if (url.UserInfo is null || url.UserInfo.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no user", $"write {url.Scheme}://USER@host/path");
        }

        if (url.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            throw url.Error($"'{url.Redacted}' holds a password; a secret never goes in a URL", "remove ':PASSWORD' from the URL and set LIFEBOAT_FTP_PASSWORD");
        }

        if (url.Host.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no host", $"write {url.Scheme}://user@HOST[:port]/path");
        }

        var path = url.Path.TrimEnd('/');
        if (path.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no directory", $"write {url.Scheme}://user@host/path/to/the/repository (the server's root directory is never used)");
        }

        if (path.Contains("//", StringComparison.Ordinal) || path.Split('/').Any(p => p is "." or "..") || path.Any(c => c is '\r' or '\n'))
        {
            throw url.Error($"'{url.Redacted}' has the path '{url.Path}' with an empty, '.' or '..' part", "write the path without '.', '..' or '//'");
        }

        var ca = tls ? url.Get("ca") : null;
        var fingerprint = tls ? url.Get("fingerprint") : null;
        if (ca is not null && fingerprint is not null)
        {
            throw url.Error($"'{url.Redacted}' gives both ca and fingerprint", "give one: the certificate is checked against a CA file or a pinned fingerprint");
        }

        if (ca is not null && !System.IO.Path.IsPathRooted(ca))
        {
            throw url.Error($"'{url.Redacted}': ca={ca} is not an absolute path", "write ca=/absolute/path/to/ca.pem");
        }

        if (fingerprint is not null && !FingerprintFormat().IsMatch(fingerprint))
        {
            throw url.Error(
                $"'{url.Redacted}': fingerprint={fingerprint} is not a SHA-256 certificate fingerprint",
                "write fingerprint=SHA256:… with the 64 hex digits `openssl x509 -noout -fingerprint -sha256 -in CERT` prints on the server");
        }

        return new FtpLocation
        {
            User = url.UserInfo,
            Host = url.Host.Trim('[', ']'),
            Port = url.Port(21),
            Path = path.StartsWith('/') ? path : "/" + path,
            Tls = tls,
            CaFile = ca,
            Fingerprint = fingerprint is null ? null : NormalizeFingerprint(fingerprint),
        };
    }

    /// <summary><c>SHA256:</c> and 64 upper-case hex digits without colons.</summary>
    public static string NormalizeFingerprint(string fingerprint)
        => "SHA256:" + fingerprint["SHA256:".Length..].Replace(":", "", StringComparison.Ordinal).ToUpperInvariant();

    [GeneratedRegex("^SHA256:([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex FingerprintFormat();
}

/// <summary>The password of an FTP target, from LIFEBOAT_FTP_PASSWORD. <see cref="ToString"/> never shows it.</summary>
public sealed record FtpSecrets(string? Password)
{
    public override string ToString() => $"FtpSecrets {{ Password = {(Password is null ? "none" : "***")} }}";

    public static FtpSecrets FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        var password = environment.GetValueOrDefault("LIFEBOAT_FTP_PASSWORD");
        return new FtpSecrets(string.IsNullOrEmpty(password) ? null : password);
    }
}
