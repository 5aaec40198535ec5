using System.Security.Cryptography;
using Lifeboat.Core;
using Lifeboat.Targets.Ftp;

namespace Lifeboat.Targets.Tests;

/// <summary>What only an FTP target does: the certificate check, the password, plain FTP only when asked (real vsftpd).</summary>
public sealed class FtpTargetTests(VsftpdFixture fixture) : IClassFixture<VsftpdFixture>
{
    private readonly string _directory = "ftp-tests-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertRoundTripAsync(ITarget target)
    {
        var bytes = TestData.Random(300_000, seed: 1);
        await target.SaveAsync("data/ab/config", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        Assert.Equal(bytes, await target.ReadAllAsync("data/ab/config", Ct));
        Assert.Equal([new ObjectInfo("data/ab/config", bytes.Length)], await target.ListAllAsync("data/", Ct));
    }

    [Fact]
    public async Task A_certificate_the_machine_does_not_trust_is_refused_showing_its_fingerprint_and_how_to_trust_it()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, "").TrimEnd('?'), server.Environment);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"ftps://anonymous@127.0.0.1:{server.Port}/pub/{_directory}: the certificate of 127.0.0.1:{server.Port} (CN=127.0.0.1, {server.Fingerprint}) is not trusted by this machine (RemoteCertificateChainErrors)", error.Message);
        Assert.Equal("give the server's certificate (or its CA) with &ca=/path/to/cert.pem, or pin it with &fingerprint=SHA256:…", error.Hint);
        Assert.False(Directory.Exists(Path.Combine(server.Root, _directory)));
    }

    [Fact]
    public async Task The_pinned_fingerprint_of_the_servers_certificate_lets_the_target_in()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"fingerprint={server.Fingerprint}"), server.Environment);

        await AssertRoundTripAsync(target);
    }

    [Fact]
    public async Task A_certificate_that_differs_from_the_pinned_fingerprint_is_refused_naming_both()
    {
        var server = fixture.Require();
        var pinned = "SHA256:" + new string('A', 64);
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"fingerprint={pinned}"), server.Environment);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal($"ftps://anonymous@127.0.0.1:{server.Port}/pub/{_directory}: the certificate of 127.0.0.1:{server.Port} does not match the pinned fingerprint: the server presented {server.Fingerprint}, the URL pins {pinned}", error.Message);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_exit_code_2_naming_the_target_and_never_the_password()
    {
        var server = fixture.Require();
        var password = "wrong-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        await using var target = TargetFactory.OpenRaw(server.Url(_directory), new Dictionary<string, string?> { ["LIFEBOAT_FTP_PASSWORD"] = password });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.AuthenticationFailed, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"ftps://anonymous@127.0.0.1:{server.Port}/pub/{_directory}: 127.0.0.1:{server.Port} refused the password from LIFEBOAT_FTP_PASSWORD for the user 'anonymous' (530 Login incorrect.)", error.Message);
        Assert.DoesNotContain(password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_a_transient_failure()
    {
        var port = PeerPaths.FreeLoopbackPort();
        await using var target = TargetFactory.OpenRaw($"ftps://backup@127.0.0.1:{port}/repo", new Dictionary<string, string?> { ["LIFEBOAT_FTP_PASSWORD"] = "x" });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.StartsWith($"cannot stat ftps://backup@127.0.0.1:{port}/repo/config: cannot connect to 127.0.0.1:{port}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_data_connection_resumes_the_tls_session_as_vsftpd_requires_by_default()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_directory), server.Environment);

        // Uploads, range reads and listings each open a data connection: vsftpd (require_ssl_reuse=YES) refuses any that
        // does not resume the control connection's session, with "522 SSL connection failed: session reuse required".
        await AssertRoundTripAsync(target);
        Assert.Equal(TestData.Random(300_000, seed: 1).AsSpan(1000, 10).ToArray(), await target.ReadRangeAsync("data/ab/config", 1000, 10, Ct));
        Assert.DoesNotContain("session reuse", server.Log, StringComparison.Ordinal);
    }
}

/// <summary>Plain FTP, only with insecure=true, against a vsftpd that lets it in.</summary>
public sealed class PlainFtpTargetTests(PlainVsftpdFixture fixture) : IClassFixture<PlainVsftpdFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Plain_ftp_with_insecure_true_round_trips()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw($"ftp://anonymous@127.0.0.1:{server.Port}/pub/plain?insecure=true", server.Environment);

        var bytes = TestData.Random(50_000, seed: 2);
        await target.SaveAsync("data/cd/x", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        Assert.Equal(bytes, await target.ReadAllAsync("data/cd/x", Ct));
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(server.Root, "plain", "data", "cd", "x")));
    }
}

/// <summary>The ftp:// and ftps:// URL forms and their exit-2 errors, without a server.</summary>
public sealed class FtpUrlTests
{
    private static readonly Dictionary<string, string?> Password = new() { ["LIFEBOAT_FTP_PASSWORD"] = "pw" };

    private static LifeboatException Refused(string url, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var error = Assert.ThrowsAny<LifeboatException>(() => TargetFactory.OpenRaw(url, environment ?? Password));
        Assert.Equal(2, error.ExitCode);
        return error;
    }

    [Fact]
    public async Task An_ftps_URL_names_the_user_host_port_directory_and_how_the_certificate_is_checked()
    {
        await using var target = TargetFactory.OpenRaw("ftps://backup@ftp.example.com:2121/srv/lifeboat/?ca=/etc/lifeboat/ftp-ca.pem", Password);

        var ftp = Assert.IsType<FtpTarget>(target);
        Assert.Equal("ftps://backup@ftp.example.com:2121/srv/lifeboat", ftp.DisplayName);
        Assert.False(ftp.Capabilities.AtomicCreate);
    }

    [Fact]
    public void Plain_ftp_is_refused_unless_the_URL_says_insecure()
    {
        var error = Refused("ftp://backup@ftp.example.com/srv/lifeboat");
        Assert.Equal("'ftp://backup@ftp.example.com/srv/lifeboat' is plain FTP: the password and every backup would cross the network unencrypted", error.Message);
        Assert.Equal("use ftps://… (explicit TLS), or, on a network you trust, write ftp://…?insecure=true", error.Hint);
    }

    [Theory]
    [InlineData("ftps://ftp.example.com/srv/repo", "'ftps://ftp.example.com/srv/repo' names no user")]
    [InlineData("ftps://backup:hunter2@ftp.example.com/srv/repo", "'ftps://backup:***@ftp.example.com/srv/repo' holds a password; a secret never goes in a URL")]
    [InlineData("ftps://backup@ftp.example.com/", "'ftps://backup@ftp.example.com/' names no directory")]
    [InlineData("ftps://backup@ftp.example.com/srv/repo?ca=/a.pem&fingerprint=SHA256:00", "'ftps://backup@ftp.example.com/srv/repo?ca=/a.pem&fingerprint=SHA256:00' gives both ca and fingerprint")]
    [InlineData("ftps://backup@ftp.example.com/srv/repo?fingerprint=SHA256:abc", "'ftps://backup@ftp.example.com/srv/repo?fingerprint=SHA256:abc': fingerprint=SHA256:abc is not a SHA-256 certificate fingerprint")]
    [InlineData("ftps://backup@ftp.example.com/srv/repo?insecure=true", "'ftps://backup@ftp.example.com/srv/repo?insecure=true' has the unknown parameter 'insecure'")]
    [InlineData("ftps://backup@ftp.example.com/srv/repo?ca=relative.pem", "'ftps://backup@ftp.example.com/srv/repo?ca=relative.pem': ca=relative.pem is not an absolute path")]
    public void A_wrong_part_of_an_ftp_URL_is_named(string url, string message)
    {
        Assert.Equal(message, Refused(url).Message);
    }

    [Fact]
    public void A_user_without_a_password_is_told_where_it_comes_from()
    {
        var error = Refused("ftps://backup@ftp.example.com/srv/repo", new Dictionary<string, string?>());
        Assert.Equal("ftps://backup@ftp.example.com/srv/repo has no password", error.Message);
        Assert.Equal("set LIFEBOAT_FTP_PASSWORD", error.Hint);
    }
}

/// <summary>Directory listings as FTP servers send them.</summary>
public sealed class FtpListingTests
{
    [Fact]
    public void A_LIST_line_gives_the_name_size_kind_and_the_time_to_the_minute_in_the_right_year()
    {
        var now = new DateTimeOffset(2027, 1, 10, 12, 0, 0, TimeSpan.Zero);
        var entries = FtpListing.ParseList(
            "drwx------    2 104      106          4096 Jan 09 17:18 data\r\n" +
            "-rw-------    1 104      106          1135 Dec 03 17:18 config\r\n" +
            "-rw-------    1 104      106             7 Mar 02  2025 old file\r\n" +
            "lrwxrwxrwx    1 0        0               3 Jan 01 00:00 link -> x\r\n" +
            "total 12\r\n",
            now);

        Assert.Equal(
            [
                new FtpListing.Entry("data", true, 4096, new DateTimeOffset(2027, 1, 9, 17, 18, 0, TimeSpan.Zero)),
                new FtpListing.Entry("config", false, 1135, new DateTimeOffset(2026, 12, 3, 17, 18, 0, TimeSpan.Zero)),
                new FtpListing.Entry("old file", false, 7, new DateTimeOffset(2025, 3, 2, 0, 0, 0, TimeSpan.Zero)),
            ],
            entries);
    }

    [Fact]
    public void An_MLSD_listing_gives_exact_utc_times_and_skips_the_directory_itself()
    {
        var entries = FtpListing.ParseMlsd("type=cdir;modify=20261203171844; .\r\ntype=file;size=1135;modify=20261203171844.123; config\r\ntype=dir;modify=20261203171800; data\r\n");

        Assert.Equal(
            [
                new FtpListing.Entry("config", false, 1135, new DateTimeOffset(2026, 12, 3, 17, 18, 44, TimeSpan.Zero)),
                new FtpListing.Entry("data", true, 0, new DateTimeOffset(2026, 12, 3, 17, 18, 0, TimeSpan.Zero)),
            ],
            entries);
    }
}
