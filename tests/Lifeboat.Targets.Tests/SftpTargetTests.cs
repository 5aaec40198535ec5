using System.Security.Cryptography;
using Lifeboat.Targets.Sftp;

namespace Lifeboat.Targets.Tests;

/// <summary>What only an SFTP target does: the host key check, its credentials, a server that does not answer.</summary>
public sealed class SftpTargetTests(SshdFixture fixture) : IClassFixture<SshdFixture>
{
    private readonly string _directory = "sftp-tests-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly IReadOnlyDictionary<string, string?> NoSecrets = new Dictionary<string, string?>();

    private string Display(SshdServer server) => $"sftp://{SshdServer.User}@127.0.0.1:{server.Port}{server.Root}/{_directory}";

    private static async Task AssertRoundTripAsync(ITarget target)
    {
        var bytes = TestData.Random(1000, seed: 1);
        await target.SaveAsync("config", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        Assert.Equal(bytes, await target.ReadAllAsync("config", Ct));
    }

    /// <summary>A known_hosts file that lists another key for the server, as after a man-in-the-middle or a reinstall.</summary>
    private static async Task<(string File, string Fingerprint)> ForeignKnownHostsAsync(SshdServer server, string name)
    {
        var other = server.Combine(name + "_ed25519");
        if (!File.Exists(other))
        {
            await SshdServer.KeygenAsync(other, Ct);
        }

        var file = server.Combine(name + "_known_hosts");
        await File.WriteAllTextAsync(file, $"# another key for the same server\n[127.0.0.1]:{server.Port} {File.ReadAllText(other + ".pub").Trim()}\n", Ct);
        return (file, await SshdServer.FingerprintAsync(other + ".pub", Ct));
    }

    [Fact]
    public async Task A_host_key_that_differs_from_known_hosts_is_refused_naming_both_fingerprints()
    {
        var server = fixture.Require();
        var (knownHosts, expected) = await ForeignKnownHostsAsync(server, "mitm");
        var presented = await SshdServer.FingerprintAsync(server.Combine("host_ed25519.pub"), Ct);
        var logger = new ListLogger();
        await using var target = TargetFactory.Open(server.Url(_directory, $"key={server.ClientKey}&known-hosts={knownHosts}"), new TargetOpenOptions { Environment = NoSecrets, Logger = logger });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal(
            $"{Display(server)}: the host key of 127.0.0.1:{server.Port} does not match the known_hosts file {knownHosts}: the server presented {presented} (ssh-ed25519), {knownHosts} has {expected} (ssh-ed25519) (line 2)",
            error.Message);
        Assert.Equal("if the server's key was changed on purpose, check the new fingerprint with its administrator and replace the line; otherwise someone may be intercepting the connection", error.Hint);
        Assert.Empty(logger.Entries);
        Assert.False(Directory.Exists(Path.Combine(server.Root, _directory)));
    }

    [Fact]
    public async Task A_host_key_that_differs_from_the_pinned_fingerprint_is_refused_naming_both()
    {
        var server = fixture.Require();
        var (_, pinned) = await ForeignKnownHostsAsync(server, "pinned");
        var presented = await SshdServer.FingerprintAsync(server.Combine("host_ed25519.pub"), Ct);
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"key={server.ClientKey}&fingerprint={pinned}"), NoSecrets);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal($"{Display(server)}: the host key of 127.0.0.1:{server.Port} does not match the pinned fingerprint: the server presented {presented} (ssh-ed25519), the URL pins {pinned}", error.Message);
    }

    [Fact]
    public async Task The_pinned_fingerprint_of_the_servers_key_lets_the_target_in()
    {
        var server = fixture.Require();
        var fingerprint = await SshdServer.FingerprintAsync(server.Combine("host_ed25519.pub"), Ct);
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"key={server.ClientKey}&fingerprint={fingerprint}"), NoSecrets);

        await AssertRoundTripAsync(target);
    }

    [Fact]
    public async Task A_server_missing_from_known_hosts_is_refused_showing_its_fingerprint_and_how_to_add_it()
    {
        var server = fixture.Require();
        var knownHosts = server.Combine("empty_known_hosts");
        await File.WriteAllTextAsync(knownHosts, "db1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", Ct);
        var presented = await SshdServer.FingerprintAsync(server.Combine("host_ed25519.pub"), Ct);
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"key={server.ClientKey}&known-hosts={knownHosts}"), NoSecrets);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal($"{Display(server)}: 127.0.0.1:{server.Port} is not in the known_hosts file {knownHosts}; the server presented {presented} (ssh-ed25519)", error.Message);
        Assert.Equal($"check that fingerprint with the server's administrator, then add the key: ssh-keyscan -p {server.Port} 127.0.0.1 >> {knownHosts} (or pin it with &fingerprint={presented})", error.Hint);
    }

    [Fact]
    public async Task A_hashed_known_hosts_file_is_understood()
    {
        var server = fixture.Require();
        var hashed = server.Combine("hashed_known_hosts");
        File.Copy(server.KnownHosts, hashed, overwrite: true);
        var (code, output) = await SshdServer.RunAsync("ssh-keygen", ["-H", "-f", hashed], Ct);
        Assert.True(code == 0, output);
        Assert.StartsWith("|1|", await File.ReadAllTextAsync(hashed, Ct), StringComparison.Ordinal);
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"key={server.ClientKey}&known-hosts={hashed}"), NoSecrets);

        await AssertRoundTripAsync(target);
    }

    [Fact]
    public async Task A_wrong_password_fails_with_exit_code_2_naming_the_target_and_never_the_password()
    {
        var server = fixture.Require();
        var password = "wrong-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"known-hosts={server.KnownHosts}"), new Dictionary<string, string?> { ["LIFEBOAT_SFTP_PASSWORD"] = password });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.AuthenticationFailed, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"{Display(server)}: 127.0.0.1:{server.Port} refused the password from LIFEBOAT_SFTP_PASSWORD for the user '{SshdServer.User}'", error.Message);
        Assert.DoesNotContain(password, error.Message + error.Hint + error.InnerException?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_the_server_does_not_know_is_an_authentication_failure()
    {
        var server = fixture.Require();
        var stranger = server.Combine("stranger_ed25519");
        if (!File.Exists(stranger))
        {
            await SshdServer.KeygenAsync(stranger, Ct);
        }

        await using var target = TargetFactory.OpenRaw(server.Url(_directory, $"key={stranger}&known-hosts={server.KnownHosts}"), NoSecrets);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.AuthenticationFailed, error.Kind);
        Assert.Equal($"{Display(server)}: 127.0.0.1:{server.Port} refused the key {stranger} for the user '{SshdServer.User}'", error.Message);
    }

    [Fact]
    public async Task A_server_that_does_not_answer_is_a_transient_failure()
    {
        var server = fixture.Require();
        var port = PeerPaths.FreeLoopbackPort();
        await using var target = TargetFactory.OpenRaw($"sftp://backup@127.0.0.1:{port}/srv/repo?key={server.ClientKey}&known-hosts={server.KnownHosts}", NoSecrets);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.StartsWith($"cannot stat sftp://backup@127.0.0.1:{port}/srv/repo/config: cannot connect to 127.0.0.1:{port}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Saves_create_the_directories_they_need_and_leave_no_temporary_files()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_directory + "/not/yet/there"), NoSecrets);

        await AssertRoundTripAsync(target);
        await target.SaveAsync("data/ab/ab01", ObjectSource.FromBytes(new byte[] { 1, 2, 3 }), SaveMode.Replace, Ct);

        var root = Path.Combine(server.Root, _directory, "not", "yet", "there");
        Assert.Equal(["config", "data/ab/ab01"], Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal));
    }
}

/// <summary>The known_hosts matching rules, without a server.</summary>
public sealed class KnownHostsTests
{
    [Theory]
    [InlineData("db1.example.com", "db1.example.com", 22, true)]
    [InlineData("DB1.example.com", "db1.example.com", 22, true)]
    [InlineData("db1.example.com", "db1.example.com", 2222, false)]
    [InlineData("[db1.example.com]:2222", "db1.example.com", 2222, true)]
    [InlineData("[db1.example.com]:2222", "db1.example.com", 22, false)]
    [InlineData("db2.example.com,db1.example.com", "db1.example.com", 22, true)]
    [InlineData("*.example.com", "db1.example.com", 22, true)]
    [InlineData("db?.example.com", "db1.example.com", 22, true)]
    [InlineData("*.example.com,!db1.example.com", "db1.example.com", 22, false)]
    [InlineData("*.example.org", "db1.example.com", 22, false)]
    public void A_host_field_matches_as_OpenSSH_matches_it(string field, string host, int port, bool expected)
    {
        Assert.Equal(expected, HostKeyCheck.Matches(field.Split(','), host, port));
    }

    [Fact]
    public void A_hashed_host_field_matches_its_host_only()
    {
        var salt = RandomNumberGenerator.GetBytes(20);
#pragma warning disable CA5350 // the known_hosts format
        var hash = HMACSHA1.HashData(salt, "[db1.example.com]:2222"u8);
#pragma warning restore CA5350
        var field = $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(hash)}";

        Assert.True(HostKeyCheck.Matches([field], "db1.example.com", 2222));
        Assert.False(HostKeyCheck.Matches([field], "db2.example.com", 2222));
    }

    [Fact]
    public void Comments_certificate_authorities_and_broken_lines_are_skipped_and_revoked_keys_are_marked()
    {
        const string Key = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
        string[] lines =
        [
            "# comment",
            "",
            $"@cert-authority *.example.com ssh-ed25519 {Key}",
            "db1.example.com ssh-ed25519 not-base64!",
            $"db1.example.com ssh-rsa {Key}",
            $"@revoked db1.example.com ssh-ed25519 {Key}",
            $"db1.example.com ssh-ed25519 {Key} a comment",
        ];

        var entries = HostKeyCheck.Parse(lines).ToList();

        Assert.Equal([6, 7], entries.Select(e => e.Line));
        Assert.True(entries[0].Revoked);
        Assert.False(entries[1].Revoked);
        Assert.Equal("ssh-ed25519", entries[1].Key.Type);
        Assert.Equal("SHA256:", entries[1].Key.Fingerprint[..7]);
    }
}
