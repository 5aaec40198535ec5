using System.Globalization;
using System.Text.RegularExpressions;

namespace Lifeboat.Testing;

/// <summary>
/// OpenSSH's sshd (Debian openssh-server) on a free loopback port with a generated host key and its internal SFTP server,
/// letting in the current user with a throwaway key pair (and no password). Objects go below <see cref="Root"/>.
/// sshd needs root to start (privilege separation), as it has on a CI machine.
/// </summary>
public sealed partial class SshdServer : IAsyncDisposable
{
    private const string Sshd = "/usr/sbin/sshd";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir;
    private readonly PeerProcess _process;

    private SshdServer(TempDir dir, PeerProcess process, int port)
    {
        _dir = dir;
        _process = process;
        Port = port;
    }

    public static bool Available => File.Exists(Sshd) && PeerPaths.OnPath("ssh-keygen") is not null && Peers.IsRoot;

    public const string Requirement = "OpenSSH sshd (Debian openssh-server; started as root)";

    public int Port { get; }

    public static string User => Environment.UserName;

    /// <summary>The directory the SFTP tests write below (an absolute path on the server, which is this machine).</summary>
    public string Root => _dir.Combine("root");

    /// <summary>The client's private key (authorised on the server).</summary>
    public string ClientKey => _dir.Combine("client_ed25519");

    /// <summary>A known_hosts file that lists the server's key for [127.0.0.1]:PORT.</summary>
    public string KnownHosts => _dir.Combine("known_hosts");

    /// <summary>The server's public host key line (<c>ssh-ed25519 AAAA… comment</c>).</summary>
    public string HostPublicKey => File.ReadAllText(_dir.Combine("host_ed25519.pub")).Trim();

    public string Combine(params string[] parts) => _dir.Combine(parts);

    /// <summary>A target URL for a directory below <see cref="Root"/>, checking the host key against <see cref="KnownHosts"/>.</summary>
    public string Url(string directory, string? query = null)
        => $"sftp://{User}@127.0.0.1:{Port}{Root}/{directory}?{query ?? $"key={ClientKey}&known-hosts={KnownHosts}"}";

    public static async Task<SshdServer> StartAsync(CancellationToken cancellationToken)
    {
        Peers.Require(Available, Requirement);
        var dir = new TempDir("lifeboat-sshd-");
        try
        {
            Directory.CreateDirectory(dir.Combine("root"));
            await KeygenAsync(dir.Combine("host_ed25519"), cancellationToken);
            await KeygenAsync(dir.Combine("client_ed25519"), cancellationToken);
            File.Copy(dir.Combine("client_ed25519.pub"), dir.Combine("authorized_keys"));
            // The privilege separation directory (Debian's init script creates it; a container may lack it).
            Directory.CreateDirectory("/run/sshd");
            var port = PeerPaths.FreeLoopbackPort();
            var hostKey = File.ReadAllText(dir.Combine("host_ed25519.pub")).Trim();
            await File.WriteAllTextAsync(dir.Combine("known_hosts"), $"[127.0.0.1]:{port} {hostKey}\n", cancellationToken);
            await File.WriteAllTextAsync(
                dir.Combine("sshd_config"),
                $"""
                ListenAddress 127.0.0.1
                HostKey {dir.Combine("host_ed25519")}
                PidFile none
                AuthorizedKeysFile {dir.Combine("authorized_keys")}
                StrictModes no
                UsePAM no
                PubkeyAuthentication yes
                PasswordAuthentication yes
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                MaxStartups 100
                LogLevel INFO
                Subsystem sftp internal-sftp
                """,
                cancellationToken);
            var process = PeerProcess.Start("sshd", Sshd, ["-D", "-e", "-f", dir.Combine("sshd_config"), "-p", port.ToString(CultureInfo.InvariantCulture)], workingDirectory: dir.Path);
            try
            {
                await process.WaitForOutputAsync(Listening(), StartDeadline, cancellationToken);
                return new SshdServer(dir, process, port);
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Generates an ed25519 key pair without a passphrase (<c>PATH</c> and <c>PATH.pub</c>).</summary>
    public static async Task KeygenAsync(string path, CancellationToken cancellationToken)
    {
        var (code, output) = await RunAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "lifeboat-test", "-f", path], cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"ssh-keygen failed: {output}");
        }
    }

    /// <summary>The SHA-256 fingerprint of a public key file as `ssh-keygen -l` prints it (<c>SHA256:…</c>).</summary>
    public static async Task<string> FingerprintAsync(string publicKeyFile, CancellationToken cancellationToken)
    {
        var (code, output) = await RunAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile], cancellationToken);
        if (code != 0)
        {
            throw new InvalidOperationException($"ssh-keygen -l failed: {output}");
        }

        return output.Split(' ')[1];
    }

    public static async Task<(int Code, string Output)> RunAsync(string program, string[] args, CancellationToken cancellationToken)
    {
        var info = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await stdout + await stderr);
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _dir.Dispose();
    }

    [GeneratedRegex(@"Server listening on 127\.0\.0\.1 port (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
