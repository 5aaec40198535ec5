using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Lifeboat.Engine.Notifications;

/// <summary>The channels of Events:Channels, found by name, of one kind.</summary>
public abstract class ConfiguredChannel(Workspace workspace) : IDeliveryChannel
{
    public abstract string Kind { get; }

    protected Workspace Workspace => workspace;

    public Task<ChannelTarget> ResolveAsync(string name, CancellationToken cancellationToken)
    {
        var channels = workspace.OptionsOrEmpty.Events.Channels;
        return Task.FromResult(channels.TryGetValue(name, out var options) && Accepts(options)
            ? Target(name, options)
            : MissingChannel.Of($"there is no {Kind} channel '{name}' in Events:Channels any more"));
    }

    protected abstract bool Accepts(ChannelOptions options);

    protected abstract ChannelTarget Target(string name, ChannelOptions options);

    protected string ResolvePath(string path) => workspace.ResolvePath(path);

    /// <summary>The first line of a file holding a secret, or a configuration error naming the setting.</summary>
    protected string SecretFile(string path, string setting)
    {
        try
        {
            return File.ReadLines(ResolvePath(path)).FirstOrDefault()?.Trim() ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LifeboatException(ErrorCode.Config, $"{setting} '{path}' cannot be read: {ex.Message}", "make the file readable by the user lifeboat runs as (and by nobody else)");
        }
    }
}

/// <summary>
/// E-mail (MailKit): SMTP with STARTTLS (default), TLS from the start, or none; authentication when a user is
/// configured (the password from a file). A message per alert, reminder and resolution, text and HTML, from the
/// templates (<see cref="Messages"/>); the incident's messages share a thread (Message-Id, In-Reply-To).
/// </summary>
public sealed class EmailChannel(Workspace workspace, TimeProvider time) : ConfiguredChannel(workspace)
{
    private readonly TimeProvider _time = time;

    public override string Kind => "email";

    protected override bool Accepts(ChannelOptions options) => options.Kind == ChannelKinds.Email;

    protected override ChannelTarget Target(string name, ChannelOptions options) => new Smtp(this, name, options);

    private sealed class Smtp(EmailChannel channel, string name, ChannelOptions o) : ChannelTarget
    {
        public override async Task<AttemptOutcome> SendAsync(DeliveryRecord delivery, EventRecord e, CancellationToken cancellationToken)
        {
            var detail = NotificationDetail.Parse(delivery.Detail);
            var rendered = Messages.Render(e, detail, Messages.TemplatesDirectory(channel.Workspace.ConfigPath));
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(o.From!));
            foreach (var to in o.To)
            {
                message.To.Add(MailboxAddress.Parse(to));
            }

            message.Subject = rendered.Subject;
            message.Body = new BodyBuilder { TextBody = rendered.Text, HtmlBody = rendered.Html }.ToMessageBody();
            if (detail.Incident is { } incident)
            {
                // One thread per incident: the alert, its reminders and its resolution.
                var thread = $"incident.{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(e.Tenant + "/" + incident + "/" + detail.Opened?.ToUnixTimeMilliseconds())))[..24]}@lifeboat";
                if (detail.Kind == "alert")
                {
                    message.MessageId = thread;
                }
                else
                {
                    message.InReplyTo = thread;
                    message.References.Add(thread);
                }
            }

            var started = channel.Workspace.Options.Events.Webhooks.Timeout;
            var timer = channel._time.GetTimestamp();
            using var smtp = new SmtpClient { Timeout = (int)started.TotalMilliseconds };
            string? rejection = null;
            try
            {
                if (o.CertificateFile is { } pem)
                {
                    var trusted = TrustedCertificates(pem);
                    smtp.ServerCertificateValidationCallback = (_, certificate, _, errors) =>
                    {
                        rejection = Check(certificate, errors, trusted, pem);
                        return rejection is null;
                    };
                }

                var security = o.Security switch { "tls" => SecureSocketOptions.SslOnConnect, "none" => SecureSocketOptions.None, _ => SecureSocketOptions.StartTls };
                await smtp.ConnectAsync(o.Host!, o.Port ?? (o.Security switch { "tls" => 465, "none" => 25, _ => 587 }), security, cancellationToken);
                if (!string.IsNullOrEmpty(o.Username))
                {
                    await smtp.AuthenticateAsync(o.Username, o.PasswordFile is null ? "" : channel.SecretFile(o.PasswordFile, $"Events:Channels:{name}:PasswordFile"), cancellationToken);
                }

                var answer = await smtp.SendAsync(message, cancellationToken);
                await smtp.DisconnectAsync(true, cancellationToken);
                return new AttemptOutcome(null, (long)channel._time.GetElapsedTime(timer).TotalMilliseconds, null, answer);
            }
            catch (Exception ex) when (ex is MailKit.ServiceNotConnectedException or MailKit.ServiceNotAuthenticatedException or SmtpCommandException or SmtpProtocolException
                                           or AuthenticationException or IOException or System.Net.Sockets.SocketException or SslHandshakeException or TimeoutException or LifeboatException)
            {
                var why = rejection ?? ex.Message;
                return new AttemptOutcome(null, (long)channel._time.GetElapsedTime(timer).TotalMilliseconds, $"SMTP {o.Host}: {Redact.ConnectionString(why)}", null);
            }
        }

        /// <summary>The certificates of CertificateFile (a self-signed server certificate, or the CA that issued it), or a configuration error naming the setting.</summary>
        private X509Certificate2Collection TrustedCertificates(string pem)
        {
            try
            {
                var trusted = new X509Certificate2Collection();
                trusted.ImportFromPemFile(channel.ResolvePath(pem));
                if (trusted.Count == 0)
                {
                    throw new System.Security.Cryptography.CryptographicException("it holds no certificate");
                }

                return trusted;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new LifeboatException(ErrorCode.Config, $"Events:Channels:{name}:CertificateFile '{pem}' cannot be read as PEM certificates: {ex.Message}", "give the PEM file of the SMTP server's certificate or of the CA that issued it");
            }
        }

        /// <summary>Why the server's certificate is refused, or null: trusted by the system, or issued by (or being) a certificate of CertificateFile for the host name.</summary>
        private string? Check(System.Security.Cryptography.X509Certificates.X509Certificate? certificate, System.Net.Security.SslPolicyErrors errors, X509Certificate2Collection trusted, string pem)
        {
            if (errors == System.Net.Security.SslPolicyErrors.None)
            {
                return null;
            }

            if (certificate is null)
            {
                return "the server presented no certificate";
            }

            using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (!chain.Build(leaf))
            {
                return $"the certificate of {o.Host} ({leaf.Subject}) is not issued by a certificate of Events:Channels:{name}:CertificateFile '{pem}': {string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()))}";
            }

            return leaf.MatchesHostname(o.Host!, allowWildcards: true, allowCommonName: true) ? null : $"the certificate of {o.Host} ({leaf.Subject}) is not for the name '{o.Host}'";
        }
    }
}

/// <summary>
/// Chat: a Slack-compatible incoming webhook (<c>{"text": …}</c> in Slack's mrkdwn, which Mattermost and Rocket.Chat
/// accept too) or a Microsoft Teams workflow webhook (a message with an Adaptive Card). The URL is a secret (from
/// UrlFile, or Url through an environment variable); it is never shown.
/// </summary>
public sealed class ChatChannel(Workspace workspace, TimeProvider time) : ConfiguredChannel(workspace)
{
    private readonly TimeProvider _time = time;

    public override string Kind => "chat";

    protected override bool Accepts(ChannelOptions options) => options.Kind is ChannelKinds.Slack or ChannelKinds.Teams;

    protected override ChannelTarget Target(string name, ChannelOptions options) => new Hook(this, name, options);

    public static string Payload(string kind, NotificationMessage m, EventRecord e)
    {
        if (kind == ChannelKinds.Teams)
        {
            var facts = new JsonArray(
                Fact("Event", $"{e.Type} ({e.Severity})"), Fact("Source", e.Source ?? "-"), Fact("Time", e.Time.ToUniversalTime().ToString("u", System.Globalization.CultureInfo.InvariantCulture)),
                Fact("Correlation", e.CorrelationId));
            var card = new JsonObject
            {
                ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                ["type"] = "AdaptiveCard",
                ["version"] = "1.4",
                ["body"] = new JsonArray(
                    new JsonObject { ["type"] = "TextBlock", ["size"] = "Medium", ["weight"] = "Bolder", ["wrap"] = true, ["text"] = m.Subject },
                    new JsonObject { ["type"] = "TextBlock", ["wrap"] = true, ["text"] = m.Summary },
                    new JsonObject { ["type"] = "FactSet", ["facts"] = facts }),
            };
            return new JsonObject
            {
                ["type"] = "message",
                ["attachments"] = new JsonArray(new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["content"] = card }),
            }.ToJsonString();
        }

        return new JsonObject { ["text"] = $"*{m.Subject}*\n{m.Summary}\n`{e.Type}` · {e.Severity} · {e.Source ?? "-"} · {e.Time.ToUniversalTime():u} · correlation {e.CorrelationId}" }.ToJsonString();
    }

    private static JsonObject Fact(string title, string value) => new() { ["title"] = title, ["value"] = value };

    private sealed class Hook(ChatChannel channel, string name, ChannelOptions o) : ChannelTarget
    {
        public override Task<AttemptOutcome> SendAsync(DeliveryRecord delivery, EventRecord e, CancellationToken cancellationToken)
        {
            var rendered = Messages.Render(e, NotificationDetail.Parse(delivery.Detail), Messages.TemplatesDirectory(channel.Workspace.ConfigPath));
            var url = o.UrlFile is { } file ? channel.SecretFile(file, $"Events:Channels:{name}:UrlFile") : o.Url!;
            return HttpDelivery.PostAsync(url, Payload(o.Kind, rendered, e), new Dictionary<string, string>(), channel.Workspace.Options.Events.Webhooks.Timeout, channel._time, cancellationToken);
        }
    }
}
