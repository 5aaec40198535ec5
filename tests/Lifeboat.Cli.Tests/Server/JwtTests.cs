using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// OIDC / JWT bearer tokens (Server:Jwt) beside Lifeboat's API tokens: tokens are minted here as an identity provider
/// would (its private key), and the server checks them against the provider's published keys — from a JWKS file, or
/// by OIDC discovery from a real HTTP server on loopback that rotates its key.
/// </summary>
public sealed class JwtTests
{
    private const string Issuer = "https://idp.example.test";
    private const string Audience = "lifeboat";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DateTime Now => TimeProvider.System.GetUtcNow().UtcDateTime;

    [Fact]
    public async Task A_provider_token_acts_with_its_role_and_name_and_every_forged_or_stale_token_is_refused()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        using var key = RSA.Create(2048);
        var signing = new RsaSecurityKey(key) { KeyId = "k1" };
        var jwks = cli.Dir.Combine("idp-keys.json");
        await File.WriteAllTextAsync(jwks, Jwks(signing), Ct);
        Configure(cli, new JsonObject { ["SigningKeysFile"] = jwks, ["Issuer"] = Issuer, ["Audience"] = Audience });
        await using var server = await ServerFixture.StartAsync(cli);

        // An operator by the provider's word: may start a backup; the audit trail names the person, not a token.
        using var alice = Client(server, Mint(signing, "operator", "alice"));
        var accepted = await alice.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using var auditor = server.Client(Roles.Auditor);
        var entry = JsonDocument.Parse(await auditor.GetStringAsync(new Uri("/api/v1/audit", UriKind.Relative), Ct)).RootElement.GetProperty("items")
            .EnumerateArray().First(e => e.GetProperty("actor").GetProperty("name").GetString() == "alice");
        Assert.Equal("oidc", entry.GetProperty("actor").GetProperty("kind").GetString());
        Assert.Equal("operator", entry.GetProperty("actor").GetProperty("role").GetString());

        // A viewer by the provider's word may read, not write.
        using var bob = Client(server, Mint(signing, "viewer", "bob"));
        Assert.Equal(HttpStatusCode.OK, (await bob.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct)).StatusCode);

        // Each of these is refused as unauthenticated (401), whatever role it claims.
        using var other = RSA.Create(2048);
        var forged = new Dictionary<string, string>
        {
            ["expired"] = Mint(signing, "admin", "mallory", expires: Now.AddMinutes(-10)),
            ["for another audience"] = Mint(signing, "admin", "mallory", audience: "some-other-app"),
            ["from another issuer"] = Mint(signing, "admin", "mallory", issuer: "https://evil.example.test"),
            ["signed by another key with the same key id"] = Mint(new RsaSecurityKey(other) { KeyId = "k1" }, "admin", "mallory"),
            ["signed with a shared secret (HS256)"] = Mint(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "k1" }, "admin", "mallory", algorithm: SecurityAlgorithms.HmacSha256),
            ["unsigned (alg none)"] = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor { Issuer = Issuer, Audience = Audience, Expires = Now.AddMinutes(5), Claims = new Dictionary<string, object> { ["lifeboat_role"] = "admin", ["sub"] = "mallory" } }),
            ["with a role Lifeboat does not have"] = Mint(signing, "root", "mallory"),
            ["with no role"] = Mint(signing, null, "mallory"),
            ["of another tenant"] = Mint(signing, "admin", "mallory", tenant: "acme"),
        };
        foreach (var (what, token) in forged)
        {
            using var client = Client(server, token);
            var answer = await client.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct);
            Assert.True(answer.StatusCode == HttpStatusCode.Unauthorized, $"a token {what} got {(int)answer.StatusCode}");
        }

        // Lifeboat's own API tokens keep working beside the provider's.
        using var viewer = server.Client(Roles.Viewer);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Keys_are_discovered_from_the_provider_and_a_rotated_key_is_fetched_when_a_token_names_it()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        using var first = RSA.Create(2048);
        using var second = RSA.Create(2048);
        var k1 = new RsaSecurityKey(first) { KeyId = "k1" };
        var k2 = new RsaSecurityKey(second) { KeyId = "k2" };
        var published = Jwks(k1);
        var port = Lifeboat.Postgres.Tools.PostgresCluster.FreePort();
        var authority = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(authority);
        await using var idp = builder.Build();
        idp.MapGet("/.well-known/openid-configuration", () => Results.Text($$"""{ "issuer": "{{Issuer}}", "jwks_uri": "{{authority}}/keys" }""", "application/json"));
        idp.MapGet("/keys", () => Results.Text(Volatile.Read(ref published), "application/json"));
        await idp.StartAsync(Ct);

        Configure(cli, new JsonObject { ["Authority"] = authority, ["RequireHttpsMetadata"] = false, ["Audience"] = Audience });
        await using var server = await ServerFixture.StartAsync(cli);
        using (var client = Client(server, Mint(k1, "viewer", "carol")))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        }

        // The provider rotates to k2: the server has not seen it, fetches the keys again, and accepts the token.
        Volatile.Write(ref published, Jwks(k1, k2));
        using (var client = Client(server, Mint(k2, "viewer", "carol")))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct)).StatusCode);
        }
    }

    [Fact]
    public void A_jwt_section_without_an_audience_or_with_both_key_sources_is_refused_naming_the_setting()
    {
        using var cli = new CliFixture();
        Configure(cli, new JsonObject { ["Authority"] = "https://idp.example.test" });
        var noAudience = Assert.Throws<Lifeboat.Core.LifeboatException>(() => new Workspace(Lifeboat.Engine.Configuration.ConfigFile.Resolve(cli.Dir.Combine("lifeboat.json"), cli.Cli.Environment, cli.Dir.Path), cli.Cli.Environment, cli.Dir.Path).Options);
        Assert.Contains("Server:Jwt:Audience", noAudience.Message, StringComparison.Ordinal);
        Configure(cli, new JsonObject { ["Authority"] = "http://idp.example.test", ["Audience"] = Audience });
        var plainHttp = Assert.Throws<Lifeboat.Core.LifeboatException>(() => new Workspace(Lifeboat.Engine.Configuration.ConfigFile.Resolve(cli.Dir.Combine("lifeboat.json"), cli.Cli.Environment, cli.Dir.Path), cli.Cli.Environment, cli.Dir.Path).Options);
        Assert.Contains("Server:Jwt:Authority", plainHttp.Message, StringComparison.Ordinal);
    }

    private static void Configure(CliFixture cli, JsonObject jwt)
    {
        var path = cli.Dir.Combine("lifeboat.json");
        var root = File.Exists(path) ? (JsonObject)JsonNode.Parse(File.ReadAllText(path))! : [];
        var server = root["Server"] as JsonObject ?? [];
        server["Jwt"] = jwt;
        root["Server"] = server;
        File.WriteAllText(path, root.ToJsonString());
    }

    private static string Jwks(params RsaSecurityKey[] keys)
        => new JsonObject { ["keys"] = new JsonArray(keys.Select(k => (JsonNode)JsonNode.Parse(JsonSerializer.Serialize(JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(k.Rsa.ExportParameters(false)) { KeyId = k.KeyId })))!).ToArray()) }.ToJsonString();

    private static string Mint(SecurityKey key, string? role, string name, DateTime? expires = null, string audience = Audience, string issuer = Issuer, string algorithm = SecurityAlgorithms.RsaSha256, string? tenant = null)
    {
        var claims = new Dictionary<string, object> { ["preferred_username"] = name, ["sub"] = "id-" + name, ["jti"] = Guid.NewGuid().ToString() };
        if (role is not null)
        {
            claims["lifeboat_role"] = role;
        }

        if (tenant is not null)
        {
            claims["lifeboat_tenant"] = tenant;
        }

        var notBefore = (expires ?? Now.AddMinutes(5)).AddMinutes(-30);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = notBefore,
            IssuedAt = notBefore,
            Expires = expires ?? Now.AddMinutes(5),
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, algorithm),
        });
    }

    private static HttpClient Client(ServerFixture server, string token)
    {
        var client = new HttpClient { BaseAddress = server.Address };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
