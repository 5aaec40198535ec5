using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Server;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>HTTPS with a configured certificate, and the per-client rate limit.</summary>
public sealed class TransportTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static void SetServer(CliFixture cli, JsonObject server)
        => ConfigFile.Resolve(cli.Dir.Combine("lifeboat.json"), cli.Cli.Environment, cli.Dir.Path).Edit(root => root["Server"] = server);

    [Fact]
    public async Task A_client_over_its_limit_gets_429_with_Retry_After_while_other_clients_and_health_checks_go_on()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        SetServer(cli, new JsonObject { ["RequestsPerMinute"] = 5 });
        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        }

        var limited = await viewer.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        var problem = JsonDocument.Parse(await limited.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("TooManyRequests", problem.GetProperty("code").GetString());
        Assert.Equal(429, problem.GetProperty("status").GetInt32());

        using var operatorClient = server.Client(Roles.Operator);
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        using var anonymous = server.Client(null);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/healthz", UriKind.Relative), Ct)).StatusCode);
        }
    }

    [Fact]
    public async Task The_server_speaks_HTTPS_with_the_configured_certificate_and_a_bad_one_is_a_configuration_error()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddMinutes(-5), TimeProvider.System.GetUtcNow().AddDays(1));
        File.WriteAllBytes(cli.Dir.Combine("server.pfx"), certificate.Export(X509ContentType.Pfx, "pfx-secret-1"));
        File.WriteAllText(cli.Dir.Combine("pfx.pass"), "pfx-secret-1\n");

        SetServer(cli, new JsonObject { ["CertificatePath"] = cli.Dir.Combine("server.pfx"), ["CertificatePasswordFile"] = cli.Dir.Combine("pfx.pass") });
        await using (var server = await ServerFixture.StartAsync(cli, "https"))
        {
            using var client = server.Client(Roles.Viewer, certificate);
            Assert.Equal("https", server.Address.Scheme);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/status", UriKind.Relative), Ct)).StatusCode);
        }

        SetServer(cli, new JsonObject { ["CertificatePath"] = cli.Dir.Combine("server.pfx"), ["CertificatePasswordFile"] = cli.Dir.Combine("lifeboat.json") });
        var config = ConfigFile.Resolve(cli.Dir.Combine("lifeboat.json"), cli.Cli.Environment, cli.Dir.Path);
        var error = Assert.Throws<LifeboatException>(() => LifeboatServer.Build(() => new Workspace(config, cli.Cli.Environment, cli.Dir.Path), TimeProvider.System, "https://127.0.0.1:0", null, scheduler: false));
        Assert.Equal(ErrorCode.Config, error.Code);
        Assert.Contains("Server:CertificatePath", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pfx-secret-1", error.Message + error.Hint, StringComparison.Ordinal);
    }
}
