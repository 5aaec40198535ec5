using System.Text.RegularExpressions;

namespace Lifeboat.Targets.Sftp;

/// <summary>
/// Where an SFTP target is and how its server is recognised, parsed from
/// <c>sftp://user@host[:port]/abs/path?key=KEY_FILE&amp;known-hosts=FILE</c> or <c>…&amp;fingerprint=SHA256:…</c>.
/// Holds no secret: a password comes from LIFEBOAT_SFTP_PASSWORD, a key's passphrase from LIFEBOAT_SFTP_KEY_PASSPHRASE.
/// </summary>
public sealed partial record SftpLocation
{
    public required string User { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 22;

    /// <summary>The absolute directory on the server that holds the objects, without a trailing '/'.</summary>
    public required string Path { get; init; }

    /// <summary>A private key file (OpenSSH or PEM), or null for password authentication only.</summary>
    public string? KeyFile { get; init; }

    /// <summary>The known_hosts file to check the host key against (when no fingerprint is pinned).</summary>
    public string? KnownHostsFile { get; init; }

    /// <summary>The pinned SHA-256 fingerprint of the host key, as OpenSSH prints it (<c>SHA256:</c> and unpadded base64).</summary>
    public string? Fingerprint { get; init; }

    public string DisplayName => $"sftp://{User}@{HostAndPort}{Path}";

    /// <summary><c>host</c>, or <c>host:port</c> when the port is not 22.</summary>
    public string HostAndPort => Port == 22 ? Host : $"{Host}:{Port}";

    /// <summary>
    /// Parses the URL; a relative key or known_hosts path is taken from <paramref name="homeDirectory"/>'s point of view
    /// only when it starts with '~/'. Without known-hosts and fingerprint, ~/.ssh/known_hosts is used, as ssh does.
    /// </summary>
    internal static SftpLocation Parse(TargetUrl url, string? homeDirectory)
    {
        url.AllowOnly("key", "known-hosts", "fingerprint");
        if (url.UserInfo is null || url.UserInfo.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no user", "write sftp://USER@host/absolute/path");
        }

        if (url.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            throw url.Error(
                $"'{url.Redacted}' holds a password; a secret never goes in a URL",
                "remove ':PASSWORD' from the URL and set LIFEBOAT_SFTP_PASSWORD, or better, use a key: &key=/path/to/key");
        }

        if (url.Host.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no host", "write sftp://user@HOST[:port]/absolute/path");
        }

        var path = url.Path.TrimEnd('/');
        if (path.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no directory", "write sftp://user@host/absolute/path/to/the/repository (the root directory is never used)");
        }

        if (path.Contains("//", StringComparison.Ordinal) || path.Split('/').Any(p => p is "." or ".."))
        {
            throw url.Error($"'{url.Redacted}' has the path '{url.Path}' with an empty, '.' or '..' part", "write the absolute path without '.', '..' or '//'");
        }

        var fingerprint = url.Get("fingerprint");
        var knownHosts = url.Get("known-hosts");
        if (fingerprint is not null && knownHosts is not null)
        {
            throw url.Error($"'{url.Redacted}' gives both known-hosts and fingerprint", "give one: the host key is checked against a known_hosts file or a pinned fingerprint");
        }

        if (fingerprint is not null && !FingerprintFormat().IsMatch(fingerprint))
        {
            throw url.Error(
                $"'{url.Redacted}': fingerprint={fingerprint} is not a SHA-256 fingerprint",
                "write fingerprint=SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server (43 base64 characters)");
        }

        var home = homeDirectory ?? "";
        string? Expand(string? file) => file is null ? null : file.StartsWith("~/", StringComparison.Ordinal) && home.Length > 0 ? System.IO.Path.Combine(home, file[2..]) : file;
        var key = Expand(url.Get("key"));
        knownHosts = Expand(knownHosts);
        if (key is not null && !System.IO.Path.IsPathRooted(key))
        {
            throw url.Error($"'{url.Redacted}': key={key} is not an absolute path", "write key=/absolute/path/to/the/private/key");
        }

        if (knownHosts is not null && !System.IO.Path.IsPathRooted(knownHosts))
        {
            throw url.Error($"'{url.Redacted}': known-hosts={knownHosts} is not an absolute path", "write known-hosts=/absolute/path/to/known_hosts");
        }

        if (fingerprint is null && knownHosts is null && home.Length > 0)
        {
            knownHosts = System.IO.Path.Combine(home, ".ssh", "known_hosts");
        }

        return new SftpLocation
        {
            User = url.UserInfo,
            Host = url.Host.Trim('[', ']'),
            Port = url.Port(22),
            Path = path,
            KeyFile = key,
            KnownHostsFile = knownHosts,
            Fingerprint = fingerprint,
        };
    }

    [GeneratedRegex("^SHA256:[A-Za-z0-9+/]{43}$", RegexOptions.CultureInvariant)]
    private static partial Regex FingerprintFormat();
}

/// <summary>The secrets of an SFTP target, from the environment. <see cref="ToString"/> never shows them.</summary>
public sealed record SftpSecrets(string? Password, string? KeyPassphrase)
{
    public override string ToString() => $"SftpSecrets {{ Password = {(Password is null ? "none" : "***")}, KeyPassphrase = {(KeyPassphrase is null ? "none" : "***")} }}";

    public static SftpSecrets FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        var password = environment.GetValueOrDefault("LIFEBOAT_SFTP_PASSWORD");
        var passphrase = environment.GetValueOrDefault("LIFEBOAT_SFTP_KEY_PASSPHRASE");
        return new SftpSecrets(string.IsNullOrEmpty(password) ? null : password, string.IsNullOrEmpty(passphrase) ? null : passphrase);
    }
}
