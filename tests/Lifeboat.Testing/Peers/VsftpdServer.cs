using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Lifeboat.Testing;

/// <summary>
/// Debian's vsftpd on a free loopback port, with a self-signed certificate generated for 127.0.0.1, its defaults for
/// TLS (require_ssl_reuse=YES: a data connection must resume the control connection's TLS session) and, when
/// <c>forceTls</c>, every login and transfer required to use TLS. The login is vsftpd's anonymous user restricted to one
/// random password (secure_email_list_enable), which needs no PAM set-up and no system account besides Debian's
/// <c>ftp</c>; it may write, rename and delete below <see cref="Root"/>. vsftpd needs root to start (chroot, privilege
/// separation), as it has on a CI machine.
/// </summary>
public sealed class VsftpdServer : IAsyncDisposable
{
    private const string Vsftpd = "/usr/sbin/vsftpd";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    private readonly TempDir _dir;
    private readonly PeerProcess _process;

    private VsftpdServer(TempDir dir, PeerProcess process, int port, string password)
    {
        _dir = dir;
        _process = process;
        Port = port;
        Password = password;
    }

    public static bool Available => File.Exists(Vsftpd) && Peers.IsRoot && File.ReadLines("/etc/passwd").Any(l => l.StartsWith("ftp:", StringComparison.Ordinal));

    public const string Requirement = "vsftpd (Debian vsftpd; started as root)";

    public const string User = "anonymous";

    public int Port { get; }

    /// <summary>The one password the server accepts (random).</summary>
    public string Password { get; }

    /// <summary>The directory the FTP user sees as "/pub" and may write in, on this machine.</summary>
    public string Root => _dir.Combine("chroot", "pub");

    /// <summary>The server's self-signed certificate (PEM), for ca=.</summary>
    public string Certificate => _dir.Combine("cert.pem");

    /// <summary>The SHA-256 fingerprint of <see cref="Certificate"/> as fingerprint= takes it.</summary>
    public string Fingerprint => "SHA256:" + Convert.ToHexString(SHA256.HashData(X509CertificateLoader.LoadCertificateFromFile(Certificate).RawData));

    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["LIFEBOAT_FTP_PASSWORD"] = Password };

    /// <summary>The server's log (logins, transfers), for failure messages.</summary>
    public string Log => File.Exists(_dir.Combine("vsftpd.log")) ? File.ReadAllText(_dir.Combine("vsftpd.log")) : "";

    public string Combine(params string[] parts) => _dir.Combine(parts);

    /// <summary>An ftps:// URL for a directory below <see cref="Root"/>, trusting <see cref="Certificate"/>.</summary>
    public string Url(string directory, string? query = null)
        => $"ftps://{User}@127.0.0.1:{Port}/pub/{directory}?{query ?? $"ca={Certificate}"}";

    public static async Task<VsftpdServer> StartAsync(bool forceTls, CancellationToken cancellationToken)
    {
        Peers.Require(Available, Requirement);
        var dir = new TempDir("lifeboat-vsftpd-");
        try
        {
            // vsftpd refuses an anonymous chroot the user can write to: the anonymous user (Debian's ftp) writes in pub/.
            var root = Directory.CreateDirectory(dir.Combine("chroot"));
            File.SetUnixFileMode(root.FullName, (UnixFileMode)0b111_101_101);
            var pub = Directory.CreateDirectory(dir.Combine("chroot", "pub"));
            File.SetUnixFileMode(pub.FullName, (UnixFileMode)0b111_111_111);
            Directory.CreateDirectory(dir.Combine("empty"));
            SelfSignedCertificate.Write(dir.Combine("cert.pem"), dir.Combine("key.pem"));
            var password = "ftp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            await File.WriteAllTextAsync(dir.Combine("passwords"), password + "\n", cancellationToken);
            var port = PeerPaths.FreeLoopbackPort();
            var force = forceTls ? "YES" : "NO";
            await File.WriteAllTextAsync(
                dir.Combine("vsftpd.conf"),
                $"""
                listen=YES
                listen_ipv6=NO
                listen_address=127.0.0.1
                listen_port={port.ToString(CultureInfo.InvariantCulture)}
                background=NO
                anonymous_enable=YES
                local_enable=NO
                no_anon_password=NO
                secure_email_list_enable=YES
                email_password_file={dir.Combine("passwords")}
                anon_root={root.FullName}
                write_enable=YES
                anon_upload_enable=YES
                anon_mkdir_write_enable=YES
                anon_other_write_enable=YES
                anon_umask=077
                anon_world_readable_only=NO
                secure_chroot_dir={dir.Combine("empty")}
                delay_failed_login=0
                ssl_enable=YES
                allow_anon_ssl=YES
                force_anon_logins_ssl={force}
                force_anon_data_ssl={force}
                require_ssl_reuse=YES
                rsa_cert_file={dir.Combine("cert.pem")}
                rsa_private_key_file={dir.Combine("key.pem")}
                xferlog_enable=YES
                vsftpd_log_file={dir.Combine("vsftpd.log")}
                seccomp_sandbox=NO
                """,
                cancellationToken);
            var process = PeerProcess.Start("vsftpd", Vsftpd, [dir.Combine("vsftpd.conf")], workingDirectory: dir.Path);
            try
            {
                await WaitForGreetingAsync(process, port, cancellationToken);
                return new VsftpdServer(dir, process, port, password);
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


    /// <summary>Readiness: vsftpd prints nothing when it listens, so probe the port until it greets (220), within a deadline.</summary>
    private static async Task WaitForGreetingAsync(PeerProcess process, int port, CancellationToken cancellationToken)
    {
        var deadline = TimeProvider.System.GetUtcNow() + StartDeadline;
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"vsftpd exited; its output:\n{process.Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
                var buffer = new byte[256];
                var n = await client.GetStream().ReadAsync(buffer, cancellationToken);
                var greeting = System.Text.Encoding.ASCII.GetString(buffer, 0, n);
                if (greeting.StartsWith("220", StringComparison.Ordinal))
                {
                    return;
                }

                throw new InvalidOperationException($"vsftpd greeted with '{greeting.Trim()}'; its output:\n{process.Output}");
            }
            catch (SocketException) when (TimeProvider.System.GetUtcNow() < deadline)
            {
                await Task.Delay(50, cancellationToken);
            }
            catch (SocketException ex)
            {
                throw new InvalidOperationException($"vsftpd did not accept connections within {StartDeadline.TotalSeconds:0} s ({ex.Message}); its output:\n{process.Output}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _dir.Dispose();
    }
}

public sealed class VsftpdFixture : PeerFixture<VsftpdServer>
{
    protected override bool Available => VsftpdServer.Available;

    protected override string Requirement => VsftpdServer.Requirement;

    protected override Task<VsftpdServer> StartAsync(CancellationToken cancellationToken) => VsftpdServer.StartAsync(forceTls: true, cancellationToken);
}

/// <summary>A vsftpd that also lets plain FTP in (TLS still offered): for the ftp://…?insecure=true tests.</summary>
public sealed class PlainVsftpdFixture : PeerFixture<VsftpdServer>
{
    protected override bool Available => VsftpdServer.Available;

    protected override string Requirement => VsftpdServer.Requirement;

    protected override Task<VsftpdServer> StartAsync(CancellationToken cancellationToken) => VsftpdServer.StartAsync(forceTls: false, cancellationToken);
}
