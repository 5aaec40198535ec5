using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Lifeboat.Targets.Sftp;

/// <summary>Connections of an SFTP target (authentication, the host key check) and the classification of its failures.</summary>
public sealed partial class SftpTarget
{
    private async Task<SftpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        // Read for every connection, so that a corrected known_hosts file counts at once.
        var hostKeys = HostKeyCheck.For(_location);
        var methods = new List<AuthenticationMethod>();
        if (_location.KeyFile is not null)
        {
            methods.Add(new PrivateKeyAuthenticationMethod(_location.User, LoadKey()));
        }

        if (_secrets.Password is not null)
        {
            methods.Add(new PasswordAuthenticationMethod(_location.User, _secrets.Password));
        }

        var info = new ConnectionInfo(_location.Host, _location.Port, _location.User, [.. methods]) { Timeout = TimeSpan.FromSeconds(20) };
        RestrictHostKeyAlgorithms(info, hostKeys);
        var client = new SftpClient(info) { OperationTimeout = TimeSpan.FromMinutes(2) };
        TargetException? refused = null;
        client.HostKeyReceived += (_, e) =>
        {
            refused = hostKeys.Check(HostKey.FromBlob(e.HostKey));
            e.CanTrust = refused is null;
        };
        try
        {
            await client.ConnectAsync(cancellationToken);
            return client;
        }
        catch (Exception ex)
        {
            client.Dispose();
            if (refused is not null)
            {
                throw refused;
            }

            if (ex is SshAuthenticationException)
            {
                var how = string.Join(" and ", new[] { _location.KeyFile is null ? null : $"the key {_location.KeyFile}", _secrets.Password is null ? null : "the password from LIFEBOAT_SFTP_PASSWORD" }.OfType<string>());
                throw new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: {_location.HostAndPort} refused {how} for the user '{_location.User}'",
                    hint: "check the user, the key (its public half must be in the user's ~/.ssh/authorized_keys on the server) or LIFEBOAT_SFTP_PASSWORD",
                    inner: ex);
            }

            throw;
        }
    }

    private PrivateKeyFile LoadKey()
    {
        var file = _location.KeyFile!;
        try
        {
            return _secrets.KeyPassphrase is null ? new PrivateKeyFile(file) : new PrivateKeyFile(file, _secrets.KeyPassphrase);
        }
        catch (SshPassPhraseNullOrEmptyException ex)
        {
            throw new TargetException(TargetErrorKind.Misconfigured, $"{DisplayName}: the key {file} is encrypted", hint: "set LIFEBOAT_SFTP_KEY_PASSPHRASE, or use a key without a passphrase kept readable by its owner only", inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TargetException(TargetErrorKind.Misconfigured, $"{DisplayName}: cannot read the key {file}: {ex.Message}", hint: "check key= in the URL and the file's permissions", inner: ex);
        }
        catch (SshException ex)
        {
            throw new TargetException(TargetErrorKind.Misconfigured, $"{DisplayName}: {file} is not a private key SSH.NET can read (or the passphrase is wrong): {ex.Message}", hint: "use an OpenSSH or PEM private key (ssh-keygen -t ed25519)", inner: ex);
        }
    }

    /// <summary>Asks the server for a key of a type known_hosts lists for it, as ssh does, so a server with several keys presents the one on file.</summary>
    private static void RestrictHostKeyAlgorithms(ConnectionInfo info, HostKeyCheck hostKeys)
    {
        var known = hostKeys.KnownKeyTypes;
        if (known.Count == 0)
        {
            return;
        }

        static string KeyType(string algorithm) => algorithm is "rsa-sha2-256" or "rsa-sha2-512" ? "ssh-rsa" : algorithm;
        var unwanted = info.HostKeyAlgorithms.Keys.Where(a => !known.Contains(KeyType(a))).ToList();
        if (unwanted.Count < info.HostKeyAlgorithms.Count)
        {
            foreach (var algorithm in unwanted)
            {
                info.HostKeyAlgorithms.Remove(algorithm);
            }
        }
    }

    /// <summary>Runs an operation on a pooled connection and classifies its failures where they arise (STYLE.md rule 5).</summary>
    private async Task<T> RunAsync<T>(string name, string operation, Func<SftpClient, Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await _pool.RunAsync(body, cancellationToken);
        }
        catch (Exception ex) when (ex is not TargetException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested) && IsSshFailure(ex))
        {
            throw Classify(ex, name, operation);
        }
    }

    private Task RunAsync(string name, string operation, Func<SftpClient, Task> body, CancellationToken cancellationToken)
        => RunAsync(
            name,
            operation,
            async client =>
            {
                await body(client);
                return true;
            },
            cancellationToken);

    private static bool IsSshFailure(Exception ex)
        => ex is SshException or SocketException or IOException or TimeoutException or OperationCanceledException or ObjectDisposedException or InvalidOperationException;

    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        return ex switch
        {
            SftpPathNotFoundException => NotFound(name, ex),
            SftpPermissionDeniedException => new TargetException(TargetErrorKind.AccessDenied, $"{what}: permission denied", hint: $"check the permissions of the user '{_location.User}' on {_location.Path} on the server", inner: ex),
            SocketException socket => new TargetException(TargetErrorKind.Unavailable, $"{what}: cannot connect to {_location.Host}:{_location.Port}: {socket.Message}", inner: ex),
            SshConnectionException or SshOperationTimeoutException or ProxyException or IOException or TimeoutException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
                => new TargetException(TargetErrorKind.Unavailable, $"{what}: the connection to {_location.Host}:{_location.Port} failed: {ex.Message}", inner: ex),
            _ => new TargetException(TargetErrorKind.Other, $"{what}: the server answered: {ex.Message}", isTransient: false, inner: ex),
        };
    }
}
