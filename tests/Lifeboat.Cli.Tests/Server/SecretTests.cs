using System.Net.Http.Json;
using System.Text;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>Planted secrets never appear in an answer, a log line or the audit trail, whatever the client does.</summary>
public sealed class ServerSecretTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task No_planted_secret_is_in_any_response_log_line_or_audit_row()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        const string dbPassword = "db-pw-planted-48151623";
        var log = new StringWriter();
        using var logs = new TextWriterLoggerProvider(log, LogLevel.Trace);
        await using var server = await ServerFixture.StartAsync(cli, logs: logs);
        using var admin = server.Client(Roles.Admin);
        var seen = new StringBuilder();
        async Task Call(HttpResponseMessage response) => seen.Append(await response.Content.ReadAsStringAsync(Ct)).Append(string.Join(';', response.Headers.Select(h => h.Key + "=" + string.Join(',', h.Value))));

        // Secrets in the places a client can put them: a connection string, a target URL with credentials, a query.
        await Call(await admin.PostAsJsonAsync(new Uri("/api/v1/sources/database", UriKind.Relative), new { name = "db", conn = $"Host=127.0.0.1;Port=1;Username=app;Password={dbPassword}", database = "app" }, Ct));
        await Call(await admin.PostAsJsonAsync(new Uri("/api/v1/targets", UriKind.Relative), new { name = "offsite", url = $"sftp://backup:{dbPassword}@127.0.0.1:1/srv" }, Ct));
        await Call(await admin.DeleteAsync(new Uri($"/api/v1/backups/nope?token={dbPassword}", UriKind.Relative), Ct));
        await Call(await admin.PostAsJsonAsync(new Uri("/api/v1/tokens", UriKind.Relative), new { name = "ci", role = "operator" }, Ct));
        await Call(await admin.GetAsync(new Uri("/api/v1/status", UriKind.Relative), Ct));
        await Call(await admin.GetAsync(new Uri("/api/v1/sources", UriKind.Relative), Ct));
        await Call(await admin.GetAsync(new Uri("/api/v1/targets", UriKind.Relative), Ct));
        await Call(await admin.GetAsync(new Uri("/readyz", UriKind.Relative), Ct));
        var audit = await admin.GetStringAsync(new Uri("/api/v1/audit", UriKind.Relative), Ct);
        var auditCli = (await cli.Cli.OkAsync("audit", "list", "--json")).Out;
        var events = await admin.GetStringAsync(new Uri("/api/v1/events?limit=1000", UriKind.Relative), Ct) + (await cli.Cli.OkAsync("events", "list", "--json")).Out;

        Assert.Contains("token.create", audit, StringComparison.Ordinal); // the trail has rows to check
        Assert.Contains("AddDatabaseSource", audit, StringComparison.Ordinal);
        Assert.Contains("AddTarget", auditCli, StringComparison.Ordinal);
        Assert.Contains("token.created", events, StringComparison.Ordinal); // the event log has rows to check too
        foreach (var secret in new[] { dbPassword, CliFixture.Passphrase, server.Tokens[Roles.Admin] })
        {
            Assert.DoesNotContain(secret, seen.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, log.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, auditCli, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, events, StringComparison.Ordinal);
        }
    }
}
