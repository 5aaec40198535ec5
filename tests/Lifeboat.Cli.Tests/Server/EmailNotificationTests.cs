using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MimeKit;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// The e-mail channel (MailKit) delivered by a real server to a real SMTP server on loopback
/// (tests/peers/smtp-receiver.py, Debian's python3-aiosmtpd), which saves every message it accepts as an .eml file.
/// </summary>
public sealed class EmailNotificationTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Events:Channels "ops" (e-mail to the receiver), one route of backup.* from warning up to it.</summary>
    private static void Configure(CliFixture cli, SmtpReceiver smtp, string security, string? passwordFile = null)
    {
        var configPath = cli.Dir.Combine("lifeboat.json");
        var channel = new JsonObject
        {
            ["Kind"] = "email",
            ["Host"] = "127.0.0.1",
            ["Port"] = smtp.Port,
            ["Security"] = security,
            ["From"] = "Lifeboat <lifeboat@example.test>",
            ["To"] = new JsonArray("ops@example.test", "Backup Team <backup-team@example.test>"),
        };
        if (smtp.User is not null)
        {
            channel["Username"] = smtp.User;
            channel["PasswordFile"] = passwordFile;
        }

        if (security != "none")
        {
            channel["CertificateFile"] = smtp.Certificate;
        }

        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["Events"] = new JsonObject
        {
            ["PollInterval"] = "00:00:00.050",
            ["Webhooks"] = new JsonObject { ["RetrySchedule"] = new JsonArray("00:00:00.100", "00:00:00.100"), ["Jitter"] = 0 },
            ["Channels"] = new JsonObject { ["ops"] = channel },
            ["Routes"] = new JsonArray(new JsonObject { ["Events"] = new JsonArray("backup.*"), ["MinSeverity"] = "warning", ["Channels"] = new JsonArray("ops") }),
        };
        File.WriteAllText(configPath, config.ToJsonString());
    }

    private static string Text(MimeMessage m) => m.TextBody ?? "";

    [Fact]
    public async Task A_failed_backup_mails_the_alert_over_starttls_with_auth_and_the_next_good_backup_mails_resolved_in_its_thread_with_no_secret()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        // A database source whose connection string holds a password, on a port where nothing listens: its backup fails.
        var dbPassword = "pg-Secret-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
        var port = PeerPaths.FreeLoopbackPort().ToString(CultureInfo.InvariantCulture);
        var configPath = cli.Dir.Combine("lifeboat.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["Sources"]!["shop"] = new JsonObject { ["Kind"] = "database", ["Connection"] = $"postgresql://shopuser:{dbPassword}@127.0.0.1:{port}/shop", ["Database"] = "shop" };
        File.WriteAllText(configPath, config.ToJsonString());
        await using var smtp = await SmtpReceiver.StartAsync(tls: true, user: "lifeboat-mailer", cancellationToken: Ct);
        File.WriteAllText(cli.Dir.Combine("smtp.password"), smtp.Password + "\n");
        Configure(cli, smtp, "starttls", "smtp.password");
        await using var server = await ServerFixture.StartAsync(cli);

        Assert.NotEqual(0, (await cli.Cli.RunAsync("backup", "--source", "shop")).ExitCode);
        var alert = Assert.Single(await smtp.WaitAsync(r => r.Count >= 1, Deadline, Ct));
        Directory.Move(cli.Source, cli.Source + ".gone");
        Assert.NotEqual(0, (await cli.Cli.RunAsync("backup", "--source", "app")).ExitCode);
        Directory.Move(cli.Source + ".gone", cli.Source);
        await cli.Cli.OkAsync("backup", "--source", "app");
        var mails = await smtp.WaitAsync(r => r.Count >= 3, Deadline, Ct);
        Assert.Equal(3, mails.Count);

        // The envelope: over STARTTLS, logged in, from the From address to every To.
        Assert.All(mails, m =>
        {
            Assert.True(m.Tls, "the message was sent before STARTTLS");
            Assert.Equal("lifeboat-mailer", m.Login);
            Assert.Equal("lifeboat@example.test", m.MailFrom);
            Assert.Equal(["ops@example.test", "backup-team@example.test"], m.RcptTos);
        });

        var first = alert.Message;
        Assert.StartsWith("[Lifeboat] backup.failed on 'shop': backup of 'shop' failed", first.Subject, StringComparison.Ordinal);
        Assert.Equal("lifeboat@example.test", Assert.Single(first.From.Mailboxes).Address);
        Assert.Equal("Lifeboat", first.From.Mailboxes.Single().Name);
        Assert.Equal(["ops@example.test", "backup-team@example.test"], first.To.Mailboxes.Select(m => m.Address));
        Assert.Contains("Event:        backup.failed (error)", Text(first), StringComparison.Ordinal);
        Assert.Contains("This opens an incident", Text(first), StringComparison.Ordinal);
        Assert.Contains("<h2>", first.HtmlBody, StringComparison.Ordinal);

        // The failure of 'app' opened its own incident; its good backup resolves it, in the alert's thread.
        var appAlert = mails.Select(m => m.Message).Single(m => (m.Subject ?? "").StartsWith("[Lifeboat] backup.failed on 'app'", StringComparison.Ordinal));
        var resolved = mails.Select(m => m.Message).Single(m => (m.Subject ?? "").StartsWith("[Lifeboat] RESOLVED backup.failed on 'app'", StringComparison.Ordinal));
        Assert.Contains("backup of 'app' completed", resolved.Subject, StringComparison.Ordinal);
        Assert.Contains("is resolved", Text(resolved), StringComparison.Ordinal);
        Assert.Equal(appAlert.MessageId, resolved.InReplyTo);
        Assert.Contains(appAlert.MessageId, resolved.References);
        Assert.NotEqual(first.MessageId, appAlert.MessageId);

        // No secret anywhere in what was sent: not the connection string's password, the passphrase, the SMTP password.
        var raw = string.Join('\n', mails.Select(m => m.Raw + "\n" + Text(m.Message) + "\n" + m.Message.HtmlBody));
        Assert.Contains("127.0.0.1", Text(first), StringComparison.Ordinal);
        Assert.DoesNotContain(dbPassword, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(CliFixture.Passphrase, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(smtp.Password!, raw, StringComparison.Ordinal);

        using var viewer = server.Client(Engine.Application.Roles.Viewer);
        // The SMTP server has the message before the server records the 250 reply: wait for the catalog to say so.
        var deliveries = await ServerFixture.DeliveriesAsync(viewer, "/api/v1/deliveries?channel=email:ops&limit=100", all => all.Count(d => d.GetProperty("state").GetString() == "delivered") == 3);
        Assert.Equal(3, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal("delivered", d.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task A_refused_login_is_a_failed_attempt_retried_then_dead_lettered_naming_the_server_and_notify_test_over_plain_smtp_delivers()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var smtp = await SmtpReceiver.StartAsync(tls: true, user: "lifeboat-mailer", cancellationToken: Ct);
        var wrong = "wrong-" + smtp.Password;
        File.WriteAllText(cli.Dir.Combine("smtp.password"), wrong + "\n");
        Configure(cli, smtp, "starttls", "smtp.password");
        await using var server = await ServerFixture.StartAsync(cli);

        var refused = await cli.Cli.RunAsync("notify", "test", "ops", "--json");
        Assert.Equal(1, refused.ExitCode);
        var test = JsonDocument.Parse(refused.Out).RootElement;
        Assert.Equal("email:ops", test.GetProperty("channel").GetString());
        Assert.Equal("dead", test.GetProperty("state").GetString());
        Assert.True(refused.Out.Contains("SMTP 127.0.0.1", StringComparison.Ordinal), refused.Out);
        Assert.DoesNotContain(wrong, refused.All, StringComparison.Ordinal);
        Assert.Contains("authFailed", smtp.Output, StringComparison.Ordinal);
        Assert.Empty(smtp.Received);

        // A failed backup's alert: three attempts (the schedule has two retries), each refused, then the dead-letter list.
        Directory.Move(cli.Source, cli.Source + ".gone");
        Assert.NotEqual(0, (await cli.Cli.RunAsync("backup", "--source", "app")).ExitCode);
        using var viewer = server.Client(Engine.Application.Roles.Viewer);
        JsonElement delivery = default;
        for (var deadline = TimeProvider.System.GetUtcNow() + Deadline; TimeProvider.System.GetUtcNow() < deadline; await Task.Delay(100, Ct))
        {
            var items = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/deliveries?channel=email:ops&state=dead&limit=100", UriKind.Relative), Ct)).RootElement.GetProperty("items");
            var alert = items.EnumerateArray().Where(d => d.GetProperty("eventType").GetString() == "backup.failed").ToList();
            if (alert.Count == 1)
            {
                delivery = alert[0];
                break;
            }
        }

        Assert.Equal(JsonValueKind.Object, delivery.ValueKind);
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        Assert.DoesNotContain(wrong, delivery.GetRawText(), StringComparison.Ordinal);

        // Plain SMTP (Security none, no login) to a server without TLS: notify test delivers.
        await using var plain = await SmtpReceiver.StartAsync(cancellationToken: Ct);
        Configure(cli, plain, "none");
        var sent = JsonDocument.Parse((await cli.Cli.OkAsync("notify", "test", "ops", "--json")).Out).RootElement;
        Assert.Equal("delivered", sent.GetProperty("state").GetString());
        var mail = Assert.Single(await plain.WaitAsync(r => r.Count >= 1, Deadline, Ct));
        Assert.False(mail.Tls);
        Assert.Null(mail.Login);
        Assert.Equal("[Lifeboat] test message: this channel receives Lifeboat's alerts", mail.Message.Subject);
    }
}
