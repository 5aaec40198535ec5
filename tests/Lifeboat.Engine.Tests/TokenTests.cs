using System.Globalization;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Audit;
using Lifeboat.Engine.UseCases.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lifeboat.Engine.Tests;

/// <summary>API tokens (create, authenticate, expire, revoke) and the audit trail, on the fixture's SQLite catalog.</summary>
public sealed class TokenTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FakeTimeProvider Clock() => new(DateTimeOffset.Parse("2026-11-20T02:00:00Z", CultureInfo.InvariantCulture));

    /// <summary>A service of a new call, made by <paramref name="actor"/> (default: the command line of user alice).</summary>
    private static T Use<T>(EngineFixture f, TimeProvider? time = null, Actor? actor = null, List<LifeboatEvent>? events = null)
        where T : notnull
    {
        var services = new ServiceCollection();
        services.AddSingleton(time ?? TimeProvider.System);
        if (events is not null)
        {
            services.AddScoped<IEventSink>(_ => new CollectingSink(events));
        }

        services.AddLifeboatEngine();
        var scope = services.BuildServiceProvider().CreateScope();
        var call = scope.ServiceProvider.GetRequiredService<CallContext>();
        call.Workspace = f.Workspace();
        call.Actor = actor ?? Actor.Cli("alice");
        return scope.ServiceProvider.GetRequiredService<T>();
    }

    [Fact]
    public async Task A_token_authenticates_until_it_is_revoked_and_revoking_it_again_keeps_the_first_time()
    {
        using var f = new EngineFixture(createTree: false);
        var clock = Clock();
        var events = new List<LifeboatEvent>();
        var created = await Use<CreateToken>(f, clock, events: events).ExecuteAsync(new CreateTokenRequest("ci", Roles.Operator), Ct);
        Assert.StartsWith("lbt_", created.Token, StringComparison.Ordinal);
        Assert.Equal(4 + 43, created.Token.Length); // 32 bytes in base64url, unpadded
        Assert.Matches("^tok_[0-9a-f]{16}$", created.Id);
        Assert.Equal(Workspace.DefaultName, created.Tenant);
        Assert.Null(created.Expires);

        var identity = await Use<AuthenticateToken>(f, clock).ExecuteAsync(new AuthenticateTokenRequest(created.Token), Ct);
        Assert.Equal(new TokenIdentity(created.Id, "ci", Roles.Operator, Workspace.DefaultName), identity);
        Assert.Null(await Use<AuthenticateToken>(f, clock).ExecuteAsync(new AuthenticateTokenRequest(created.Token + "x"), Ct));
        Assert.Null(await Use<AuthenticateToken>(f, clock).ExecuteAsync(new AuthenticateTokenRequest("lbt_unknown"), Ct));

        var listed = Assert.Single((await Use<ListTokens>(f, clock).ExecuteAsync(new ListTokensRequest(), Ct)).Items);
        Assert.Equal("cli:alice", listed.CreatedBy);
        Assert.Equal(clock.GetUtcNow(), listed.LastUsed);
        Assert.True(listed.Active(clock.GetUtcNow()));

        var revokedAt = clock.GetUtcNow().AddMinutes(5);
        clock.SetUtcNow(revokedAt);
        var revoked = await Use<RevokeToken>(f, clock, events: events).ExecuteAsync(new RevokeTokenRequest(created.Id), Ct);
        Assert.Equal(revokedAt, revoked.Revoked);
        Assert.Null(await Use<AuthenticateToken>(f, clock).ExecuteAsync(new AuthenticateTokenRequest(created.Token), Ct));

        clock.Advance(TimeSpan.FromHours(1));
        var again = await Use<RevokeToken>(f, clock, events: events).ExecuteAsync(new RevokeTokenRequest(created.Id), Ct);
        Assert.Equal(revokedAt, again.Revoked);
        Assert.Empty((await Use<ListTokens>(f, clock).ExecuteAsync(new ListTokensRequest(), Ct)).Items);
        Assert.Equal(revokedAt, Assert.Single((await Use<ListTokens>(f, clock).ExecuteAsync(new ListTokensRequest(IncludeRevoked: true), Ct)).Items).Revoked);

        // One event per change in the event log, written with the change (the second revocation changed nothing), and none carries the secret.
        var logged = (await Use<Lifeboat.Engine.UseCases.EventLog.ListEvents>(f, clock).ExecuteAsync(new Lifeboat.Engine.UseCases.EventLog.ListEventsRequest(Type: "token.*"), Ct)).Items;
        Assert.Equal(["token.revoked", "token.created"], logged.Select(e => e.Type));
        Assert.Equal(created.Id, logged[0].Data.GetProperty("id").GetString());
        Assert.DoesNotContain(logged, e => e.ToJson().Contains(created.Token, StringComparison.Ordinal));
        Assert.Empty(events); // written by the catalog change itself, not by the sinks

        var unknown = await Assert.ThrowsAsync<LifeboatException>(() => Use<RevokeToken>(f, clock).ExecuteAsync(new RevokeTokenRequest("tok_0000000000000000"), Ct));
        Assert.Equal(ErrorCode.NotFound, unknown.Code);
        Assert.Contains("tok_0000000000000000", unknown.Message, StringComparison.Ordinal);
        Assert.Equal(["id"], unknown.Fields);
    }

    [Fact]
    public async Task A_token_stops_authenticating_when_it_expires_and_its_last_use_is_written_at_most_once_a_minute()
    {
        using var f = new EngineFixture(createTree: false);
        var clock = Clock();
        var t0 = clock.GetUtcNow();
        var created = await Use<CreateToken>(f, clock).ExecuteAsync(new CreateTokenRequest("grafana", Roles.Viewer, Expires: "2h"), Ct);
        Assert.Equal(t0.AddHours(2), created.Expires);

        async Task<TokenIdentity?> Authenticate() => await Use<AuthenticateToken>(f, clock).ExecuteAsync(new AuthenticateTokenRequest(created.Token), Ct);
        async Task<DateTimeOffset?> LastUsed() => Assert.Single((await Use<ListTokens>(f, clock).ExecuteAsync(new ListTokensRequest(), Ct)).Items).LastUsed;

        Assert.NotNull(await Authenticate());
        Assert.Equal(t0, await LastUsed());
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.NotNull(await Authenticate());
        Assert.Equal(t0, await LastUsed());
        clock.Advance(TimeSpan.FromSeconds(31));
        Assert.NotNull(await Authenticate());
        Assert.Equal(t0.AddSeconds(61), await LastUsed());

        clock.SetUtcNow(t0.AddHours(2).AddTicks(-1));
        Assert.NotNull(await Authenticate());
        clock.SetUtcNow(t0.AddHours(2));
        Assert.Null(await Authenticate());
        var listed = Assert.Single((await Use<ListTokens>(f, clock).ExecuteAsync(new ListTokensRequest(), Ct)).Items);
        Assert.False(listed.Active(clock.GetUtcNow()));
    }

    [Theory]
    [InlineData("owner", null, "role")]
    [InlineData("viewer", "ninety days", "expires")]
    [InlineData("viewer", "0d", "expires")]
    public async Task An_unknown_role_or_a_bad_duration_is_a_usage_error_naming_the_field(string role, string? expires, string field)
    {
        using var f = new EngineFixture(createTree: false);
        var ex = await Assert.ThrowsAsync<LifeboatException>(() => Use<CreateToken>(f).ExecuteAsync(new CreateTokenRequest("x", role, Expires: expires), Ct));
        Assert.Equal(ErrorCode.Usage, ex.Code);
        Assert.Equal(2, ex.ExitCode);
        Assert.Contains(field, ex.Fields);
        Assert.Contains($"'{expires ?? role}'", ex.Message, StringComparison.Ordinal);
        if (field == "role")
        {
            Assert.Contains(string.Join(", ", Roles.All), ex.Hint, StringComparison.Ordinal);
        }

        Assert.Empty((await Use<ListTokens>(f).ExecuteAsync(new ListTokensRequest(), Ct)).Items);
    }

    [Fact]
    public async Task The_catalog_file_holds_the_hash_of_a_token_and_never_the_token()
    {
        using var f = new EngineFixture(createTree: false);
        var created = await Use<CreateToken>(f).ExecuteAsync(new CreateTokenRequest("ci", Roles.Admin), Ct);
        Assert.NotNull(await Use<AuthenticateToken>(f).ExecuteAsync(new AuthenticateTokenRequest(created.Token), Ct));
        await Use<RevokeToken>(f).ExecuteAsync(new RevokeTokenRequest(created.Id), Ct);

        // The database and its write-ahead log, whichever holds the rows now.
        var bytes = Directory.EnumerateFiles(f.Dir.Path, "lifeboat.db*").SelectMany(File.ReadAllBytes).ToArray();
        var text = Encoding.Latin1.GetString(bytes);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(created.Token)));
        Assert.Contains(hash, text, StringComparison.Ordinal);
        Assert.Contains(created.Id, text, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token["lbt_".Length..], text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_creation_and_revocation_are_audited_with_the_actor_and_without_the_secret()
    {
        using var f = new EngineFixture(createTree: false);
        var api = new Actor("token", "deploy-bot", Roles.Admin, "tok_00000000000000aa", "192.0.2.7");
        var created = await Use<CreateToken>(f, actor: api).ExecuteAsync(new CreateTokenRequest("ci", Roles.Operator, Expires: "90d"), Ct);
        await Use<RevokeToken>(f).ExecuteAsync(new RevokeTokenRequest(created.Id), Ct);

        var page = await Use<ListAudit>(f).ExecuteAsync(new ListAuditRequest(), Ct);
        Assert.Equal([AuditActions.TokenRevoke, AuditActions.TokenCreate], page.Items.Select(e => e.Action));
        Assert.Null(page.Next);
        var create = page.Items[1];
        Assert.Equal(new AuditActorView("token", "deploy-bot", "tok_00000000000000aa", Roles.Admin, "192.0.2.7"), create.Actor);
        Assert.Equal(created.Id, create.Target);
        Assert.Equal("operator", create.Parameters!["role"]);
        Assert.Equal("90d", create.Parameters["expires"]);
        Assert.Equal((AuditResults.Succeeded, 201, Workspace.DefaultName), (create.Result, create.Status, create.Tenant));
        Assert.Equal(new AuditActorView("cli", "alice", null, null, null), page.Items[0].Actor);
        Assert.NotEqual(create.CorrelationId, page.Items[0].CorrelationId);

        Assert.Single((await Use<ListAudit>(f).ExecuteAsync(new ListAuditRequest(Actor: "deploy-bot"), Ct)).Items);
        Assert.Single((await Use<ListAudit>(f).ExecuteAsync(new ListAuditRequest(Action: AuditActions.TokenRevoke), Ct)).Items);
        var text = Encoding.Latin1.GetString(Directory.EnumerateFiles(f.Dir.Path, "lifeboat.db*").SelectMany(File.ReadAllBytes).ToArray());
        Assert.DoesNotContain(created.Token, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_role_cannot_grant_more_than_it_holds_nor_act_in_another_tenant()
    {
        using var f = new EngineFixture(createTree: false);
        await Use<Lifeboat.Engine.UseCases.Tenants.TenantAdmin>(f).AddAsync(new Lifeboat.Engine.UseCases.Tenants.AddTenantRequest("acme"), Ct);
        var admin = new Actor("token", "ops", Roles.Admin, "tok_00000000000000bb");
        var escalate = await Assert.ThrowsAsync<LifeboatException>(() => Use<CreateToken>(f, actor: admin).ExecuteAsync(new CreateTokenRequest("root", Roles.Superadmin), Ct));
        Assert.Equal(ErrorCode.Refused, escalate.Code);
        Assert.Equal(["role"], escalate.Fields);
        var elsewhere = await Assert.ThrowsAsync<LifeboatException>(() => Use<CreateToken>(f, actor: admin).ExecuteAsync(new CreateTokenRequest("x", Roles.Viewer, Tenant: "acme"), Ct));
        Assert.Equal(ErrorCode.Refused, elsewhere.Code);
        Assert.Equal(Roles.Auditor, (await Use<CreateToken>(f, actor: admin).ExecuteAsync(new CreateTokenRequest("audit", Roles.Auditor), Ct)).Role);

        // The command line may make a token of any tenant; an API caller of another tenant does not even see it.
        var acme = await Use<CreateToken>(f).ExecuteAsync(new CreateTokenRequest("acme-ci", Roles.Operator, Tenant: "acme"), Ct);
        Assert.Equal("acme", acme.Tenant);
        Assert.Equal("acme", (await Use<AuthenticateToken>(f).ExecuteAsync(new AuthenticateTokenRequest(acme.Token), Ct))!.Tenant);
        Assert.Equal(["acme-ci"], (await Use<ListTokens>(f).ExecuteAsync(new ListTokensRequest(Tenant: "acme"), Ct)).Items.Select(t => t.Name));
        Assert.Equal(["audit"], (await Use<ListTokens>(f, actor: admin).ExecuteAsync(new ListTokensRequest(), Ct)).Items.Select(t => t.Name));
        var hidden = await Assert.ThrowsAsync<LifeboatException>(() => Use<RevokeToken>(f, actor: admin).ExecuteAsync(new RevokeTokenRequest(acme.Id), Ct));
        Assert.Equal(ErrorCode.NotFound, hidden.Code);
        Assert.NotNull(await Use<AuthenticateToken>(f).ExecuteAsync(new AuthenticateTokenRequest(acme.Token), Ct));
        var superadmin = new Actor("token", "root", Roles.Superadmin, "tok_00000000000000cc");
        Assert.NotNull((await Use<RevokeToken>(f, actor: superadmin).ExecuteAsync(new RevokeTokenRequest(acme.Id), Ct)).Revoked);
    }

    [Fact]
    public void Parameters_whose_keys_may_name_a_secret_are_redacted_whatever_their_case()
    {
        var redacted = AuditTrail.Redact(new Dictionary<string, string?>
        {
            ["source"] = "app",
            ["password"] = "hunter2",
            ["DbPassword"] = "hunter3",
            ["webhookSecret"] = "whsec_abc",
            ["passphrase"] = "correct horse",
            ["Token"] = "lbt_abc",
            ["apiKey"] = "k-123",
            ["KEYFILE"] = "/etc/key",
            ["role"] = "admin",
            ["note"] = null,
        })!;
        Assert.Equal("app", redacted["source"]);
        Assert.Equal("admin", redacted["role"]);
        Assert.Null(redacted["note"]);
        foreach (var key in new[] { "password", "DbPassword", "webhookSecret", "passphrase", "Token", "apiKey", "KEYFILE" })
        {
            Assert.Equal(AuditTrail.Redacted, redacted[key]);
        }

        Assert.Null(AuditTrail.Redact(null));
    }

    [Fact]
    public async Task The_audit_trail_never_stores_a_secret_parameter()
    {
        using var f = new EngineFixture(createTree: false);
        await Use<AuditTrail>(f).RecordAsync(new AuditEntry("webhook.create", "hook1", new Dictionary<string, string?> { ["url"] = "https://example.com/h", ["secret"] = "whsec_planted-9d1f" }, AuditResults.Succeeded, 201), Ct);
        var entry = Assert.Single((await Use<ListAudit>(f).ExecuteAsync(new ListAuditRequest(), Ct)).Items);
        Assert.Equal(AuditTrail.Redacted, entry.Parameters!["secret"]);
        Assert.Equal("https://example.com/h", entry.Parameters["url"]);
        var text = Encoding.Latin1.GetString(Directory.EnumerateFiles(f.Dir.Path, "lifeboat.db*").SelectMany(File.ReadAllBytes).ToArray());
        Assert.Contains("hook1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_planted-9d1f", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_the_audit_trail_with_its_cursor_returns_every_entry_once_newest_first()
    {
        using var f = new EngineFixture(createTree: false);
        var clock = Clock();
        var t0 = clock.GetUtcNow();
        for (var i = 0; i < 11; i++)
        {
            // Pairs of entries share a time: the cursor must break ties by id, not skip or repeat them.
            if (i % 2 == 0)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
            }

            await Use<AuditTrail>(f, clock).RecordAsync(new AuditEntry("test.step", $"n{i}", null, AuditResults.Succeeded, 200), Ct);
        }

        var seen = new List<AuditView>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Limit: 3, Cursor: cursor), Ct);
            Assert.True(page.Items.Count is > 0 and <= 3);
            seen.AddRange(page.Items);
            cursor = page.Next;
            pages++;
        }
        while (cursor is not null && pages < 20);

        Assert.Equal(4, pages);
        Assert.Equal(11, seen.Select(e => e.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(11, seen.Count);
        Assert.Equal(seen.OrderByDescending(e => e.Time).ThenByDescending(e => e.Id, StringComparer.Ordinal).Select(e => e.Id), seen.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, 11).Select(i => $"n{i}").Order(StringComparer.Ordinal), seen.Select(e => e.Target!).Order(StringComparer.Ordinal));

        // A window: since is inclusive, until exclusive; a duration counts back from now.
        var window = await Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Since: t0.AddSeconds(2).ToString("O", CultureInfo.InvariantCulture), Until: t0.AddSeconds(4).ToString("O", CultureInfo.InvariantCulture)), Ct);
        Assert.Equal(["n2", "n3", "n4", "n5"], window.Items.Select(e => e.Target!).Order(StringComparer.Ordinal));
        Assert.Equal(["n10", "n8", "n9"], (await Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Since: "1s"), Ct)).Items.Select(e => e.Target!).Order(StringComparer.Ordinal));

        var badCursor = await Assert.ThrowsAsync<LifeboatException>(() => Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Cursor: "not-a-cursor"), Ct));
        Assert.Equal((ErrorCode.Usage, "cursor"), (badCursor.Code, Assert.Single(badCursor.Fields)));
        var badSince = await Assert.ThrowsAsync<LifeboatException>(() => Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Since: "yesterday"), Ct));
        Assert.Equal((ErrorCode.Usage, "since"), (badSince.Code, Assert.Single(badSince.Fields)));
        var badLimit = await Assert.ThrowsAsync<LifeboatException>(() => Use<ListAudit>(f, clock).ExecuteAsync(new ListAuditRequest(Limit: 1001), Ct));
        Assert.Equal((ErrorCode.Usage, "limit"), (badLimit.Code, Assert.Single(badLimit.Fields)));
    }

    private sealed class CollectingSink(List<LifeboatEvent> events) : IEventSink
    {
        public ValueTask WriteAsync(LifeboatEvent e, CancellationToken cancellationToken)
        {
            events.Add(e);
            return ValueTask.CompletedTask;
        }
    }
}
