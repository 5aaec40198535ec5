using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Lifeboat.Targets.Sftp;

/// <summary>A host key as it travels in SSH: its type (<c>ssh-ed25519</c>, <c>ssh-rsa</c>, …) and its public key blob.</summary>
public sealed record HostKey(string Type, byte[] Blob)
{
    /// <summary>As OpenSSH prints it: <c>SHA256:</c> and the unpadded base64 of the SHA-256 of the blob.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToBase64String(SHA256.HashData(Blob)).TrimEnd('=');

    public override string ToString() => $"{Fingerprint} ({Type})";

    /// <summary>Reads the key type from the blob (its first SSH string).</summary>
    public static HostKey FromBlob(byte[] blob)
    {
        var type = "unknown";
        if (blob.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(blob);
            if (length <= blob.Length - 4)
            {
                type = Encoding.ASCII.GetString(blob, 4, (int)length);
            }
        }

        return new HostKey(type, blob);
    }
}

/// <summary>One usable line of a known_hosts file.</summary>
internal sealed record KnownHostEntry(int Line, bool Revoked, string[] Patterns, HostKey Key);

/// <summary>
/// The host key check of an SFTP target (never trust blindly): the key the server presents must be the pinned fingerprint,
/// or be listed for the host in a known_hosts file (OpenSSH format: plain and hashed host names, <c>[host]:port</c>, '*'
/// and '?' wildcards, '!' negation, <c>@revoked</c>; <c>@cert-authority</c> lines are not supported and ignored).
/// </summary>
public sealed class HostKeyCheck
{
    private readonly SftpLocation _location;
    private readonly IReadOnlyList<KnownHostEntry> _entries;

    private HostKeyCheck(SftpLocation location, IReadOnlyList<KnownHostEntry> entries)
    {
        _location = location;
        _entries = entries;
    }

    /// <summary>
    /// Reads the known_hosts file when the location names one (no fingerprint). A missing or unreadable file is a
    /// configuration error naming it.
    /// </summary>
    public static HostKeyCheck For(SftpLocation location)
    {
        if (location.Fingerprint is not null || location.KnownHostsFile is null)
        {
            return new HostKeyCheck(location, []);
        }

        string[] lines;
        try
        {
            lines = File.ReadAllLines(location.KnownHostsFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TargetException(
                TargetErrorKind.Misconfigured,
                $"{location.DisplayName}: cannot read the known_hosts file {location.KnownHostsFile}: {ex.Message}",
                hint: $"create it with the server's key, after checking its fingerprint with the server's administrator: ssh-keyscan -p {location.Port} {location.Host} >> {location.KnownHostsFile}; or pin the key with &fingerprint=SHA256:…",
                inner: ex);
        }

        return new HostKeyCheck(location, Parse(lines).Where(e => e.Patterns.Length > 0 && Matches(e.Patterns, location.Host, location.Port)).ToList());
    }

    /// <summary>The key types known for the host (to ask the server for one of them), or empty when any will do.</summary>
    public IReadOnlySet<string> KnownKeyTypes => _entries.Where(e => !e.Revoked).Select(e => e.Key.Type).ToHashSet(StringComparer.Ordinal);

    /// <summary>Null when <paramref name="presented"/> is trusted; else why not, naming both fingerprints where there are two.</summary>
    public TargetException? Check(HostKey presented)
    {
        var server = $"{_location.Host}:{_location.Port}";
        if (_location.Fingerprint is { } pinned)
        {
            return presented.Fingerprint == pinned
                ? null
                : Refused(
                    $"{_location.DisplayName}: the host key of {server} does not match the pinned fingerprint: the server presented {presented}, the URL pins {pinned}",
                    "if the server's key was changed on purpose, check the new fingerprint with its administrator and update &fingerprint=; otherwise someone may be intercepting the connection");
        }

        var file = _location.KnownHostsFile;
        if (_entries.Any(e => e.Revoked && e.Key.Blob.AsSpan().SequenceEqual(presented.Blob)))
        {
            return Refused($"{_location.DisplayName}: the host key of {server}, {presented}, is marked @revoked in {file}", "the server must use another key; ask its administrator");
        }

        var known = _entries.Where(e => !e.Revoked).ToList();
        if (known.Any(e => e.Key.Blob.AsSpan().SequenceEqual(presented.Blob)))
        {
            return null;
        }

        if (known.Count == 0)
        {
            return Refused(
                $"{_location.DisplayName}: {server} is not in the known_hosts file {file}; the server presented {presented}",
                $"check that fingerprint with the server's administrator, then add the key: ssh-keyscan -p {_location.Port} {_location.Host} >> {file} (or pin it with &fingerprint={presented.Fingerprint})");
        }

        var expected = string.Join(", ", known.Select(e => $"{e.Key} (line {e.Line})"));
        return Refused(
            $"{_location.DisplayName}: the host key of {server} does not match the known_hosts file {file}: the server presented {presented}, {file} has {expected}",
            "if the server's key was changed on purpose, check the new fingerprint with its administrator and replace the line; otherwise someone may be intercepting the connection");
    }

    private static TargetException Refused(string message, string hint) => new(TargetErrorKind.Misconfigured, message, hint: hint);

    internal static IEnumerable<KnownHostEntry> Parse(IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            var fields = lines[i].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#'))
            {
                continue;
            }

            var revoked = false;
            if (fields[0].StartsWith('@'))
            {
                if (fields[0] != "@revoked")
                {
                    continue; // @cert-authority: host certificates are not supported
                }

                revoked = true;
                fields = fields[1..];
            }

            if (fields.Length < 3)
            {
                continue;
            }

            byte[] blob;
            try
            {
                blob = Convert.FromBase64String(fields[2]);
            }
            catch (FormatException)
            {
                continue;
            }

            var key = HostKey.FromBlob(blob);
            if (key.Type != fields[1])
            {
                continue;
            }

            yield return new KnownHostEntry(i + 1, revoked, fields[0].Split(',', StringSplitOptions.RemoveEmptyEntries), key);
        }
    }

    /// <summary>Whether a known_hosts host field matches the host (as <c>host</c> on port 22, else <c>[host]:port</c>).</summary>
    internal static bool Matches(string[] patterns, string host, int port)
    {
        var name = port == 22 ? host : $"[{host}]:{port}";
        var matched = false;
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith("|1|", StringComparison.Ordinal))
            {
                matched |= HashedMatches(pattern, name);
            }
            else if (pattern.StartsWith('!'))
            {
                if (Glob(pattern[1..], name))
                {
                    return false;
                }
            }
            else
            {
                matched |= Glob(pattern, name);
            }
        }

        return matched;
    }

    private static bool HashedMatches(string pattern, string name)
    {
        // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
        var parts = pattern.Split('|');
        if (parts.Length != 4)
        {
            return false;
        }

        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var hash = Convert.FromBase64String(parts[3]);
#pragma warning disable CA5350 // HMAC-SHA1 is what OpenSSH's hashed known_hosts format uses; it only hides host names.
            return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name)), hash);
#pragma warning restore CA5350
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static bool Glob(string pattern, string name)
    {
        if (!pattern.Contains('*', StringComparison.Ordinal) && !pattern.Contains('?', StringComparison.Ordinal))
        {
            return string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase);
        }

        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(name, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
    }
}
