using Lifeboat.Core;

namespace Lifeboat.Engine.Configuration;

/// <summary>The <c>Events</c> section: the event log's retention and how the server delivers events (docs/events.md).</summary>
public sealed class EventsOptions
{
    /// <summary>How long events are kept. An event that is not delivered yet (pending or dead-lettered) is kept however old.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>How often the server looks for events written by other processes (a CLI backup, wal-push) and for due retries.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How webhooks are delivered.</summary>
    public WebhookOptions Webhooks { get; set; } = new();

    /// <summary>Channels:NAME: e-mail and chat channels that routing rules send alerts to.</summary>
    public Dictionary<string, ChannelOptions> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Routes: which events go to which channels, in order; an event goes to the channels of every rule it matches.</summary>
    public List<RouteOptions> Routes { get; set; } = [];

    internal void Validate(string configPath)
    {
        Webhooks.Validate(configPath);
        foreach (var (name, channel) in Channels)
        {
            SourceNames.Validate(name, $"channel name in {configPath}");
            channel.Validate(name, configPath);
        }

        for (var i = 0; i < Routes.Count; i++)
        {
            Routes[i].Validate(i, configPath, Channels);
        }
        if (Retention < TimeSpan.FromDays(1))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Retention = {Retention} in {configPath} is shorter than a day", "keep events at least a day, for example \"400.00:00:00\" (400 days, the default)");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:PollInterval = {PollInterval} in {configPath} is out of range", "use 10 ms to 1 minute, for example \"00:00:00.250\" (the default)");
        }
    }
}

/// <summary><c>Events:Webhooks</c>: timeouts, the retry schedule, secret rotation (Standard Webhooks).</summary>
public sealed class WebhookOptions
{
    /// <summary>How long one attempt may take (connect, send, answer) before it counts as failed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The schedule when none is configured: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.</summary>
    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(5),
        TimeSpan.FromHours(10), TimeSpan.FromHours(14), TimeSpan.FromHours(20), TimeSpan.FromHours(24),
    ];

    /// <summary>
    /// The waits between attempts after the first failed one (null: <see cref="DefaultRetrySchedule"/>; the binder would
    /// append a configured list to a default one); after the last the delivery goes to the dead-letter list. Each wait
    /// is varied by up to <see cref="Jitter"/> either way; a <c>Retry-After</c> answer replaces it.
    /// </summary>
    public List<TimeSpan>? RetrySchedule { get; set; }

    public IReadOnlyList<TimeSpan> Schedule() => RetrySchedule ?? DefaultRetrySchedule;

    /// <summary>The share by which each wait of the schedule varies at random (0.2: ±20 %), so receivers coming back are not hit all at once.</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>How long the previous secret still signs after a rotation (both signatures are sent meanwhile).</summary>
    public TimeSpan RotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Attempts made at once by one server.</summary>
    public int MaxConcurrency { get; set; } = 16;

    internal void Validate(string configPath)
    {
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromMinutes(5))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:Timeout = {Timeout} in {configPath} is out of range", "use a timeout from 1 second to 5 minutes, for example \"00:00:15\" (the default)");
        }

        if (Schedule().Count > 50 || Schedule().Any(w => w < TimeSpan.Zero || w > TimeSpan.FromDays(7)))
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:RetrySchedule in {configPath} has a wait out of range or more than 50 waits", "list up to 50 waits of up to 7 days each, for example [\"00:00:05\", \"00:05:00\", \"00:30:00\"]");
        }

        if (Jitter is < 0 or > 1 || MaxConcurrency is < 1 or > 256 || RotationOverlap < TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"Events:Webhooks:Jitter, MaxConcurrency or RotationOverlap in {configPath} is out of range", "Jitter is a share from 0 to 1, MaxConcurrency 1 to 256, RotationOverlap a duration of zero or more");
        }
    }
}

/// <summary>Kinds of notification channels.</summary>
public static class ChannelKinds
{
    public const string Email = "email";

    /// <summary>A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): <c>{"text": …}</c>.</summary>
    public const string Slack = "slack";

    /// <summary>A Microsoft Teams workflow webhook: an Adaptive Card message.</summary>
    public const string Teams = "teams";

    public static readonly IReadOnlyList<string> All = [Email, Slack, Teams];
}

/// <summary><c>Events:Channels:NAME</c>: an e-mail (SMTP) or chat channel.</summary>
public sealed class ChannelOptions
{
    /// <summary>email, slack or teams.</summary>
    public string Kind { get; set; } = "";

    /// <summary>email: the SMTP server.</summary>
    public string? Host { get; set; }

    /// <summary>email: its port (default 587 with starttls, 465 with tls, 25 with none).</summary>
    public int? Port { get; set; }

    /// <summary>email: starttls (default), tls (TLS from the start) or none.</summary>
    public string Security { get; set; } = "starttls";

    /// <summary>email: the SMTP user (absent: no authentication).</summary>
    public string? Username { get; set; }

    /// <summary>email: a file holding the SMTP password (never the password itself).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>email: a PEM certificate to trust for this server (a private CA or a self-signed server), beside the system's.</summary>
    public string? CertificateFile { get; set; }

    public string? From { get; set; }

    public List<string> To { get; set; } = [];

    /// <summary>slack, teams: the incoming webhook URL (it is a secret: prefer <see cref="UrlFile"/> or an environment variable).</summary>
    public string? Url { get; set; }

    /// <summary>slack, teams: a file holding the incoming webhook URL.</summary>
    public string? UrlFile { get; set; }

    internal void Validate(string name, string configPath)
    {
        string Setting(string key) => $"Events:Channels:{name}:{key} in {configPath}";
        if (!ChannelKinds.All.Contains(Kind, StringComparer.Ordinal))
        {
            throw new LifeboatException(ErrorCode.Config, $"{Setting("Kind")} is '{Kind}'", "use email, slack (also Mattermost and Rocket.Chat) or teams");
        }

        if (Kind == ChannelKinds.Email)
        {
            if (string.IsNullOrWhiteSpace(Host) || string.IsNullOrWhiteSpace(From) || To.Count == 0)
            {
                throw new LifeboatException(ErrorCode.Config, $"e-mail channel '{name}' in {configPath} needs Host, From and To", "for example \"Host\": \"smtp.example.com\", \"From\": \"lifeboat@example.com\", \"To\": [\"ops@example.com\"]");
            }

            if (Security is not ("starttls" or "tls" or "none"))
            {
                throw new LifeboatException(ErrorCode.Config, $"{Setting("Security")} is '{Security}'", "use starttls (the default), tls or none");
            }

            if (Port is < 1 or > 65535)
            {
                throw new LifeboatException(ErrorCode.Config, $"{Setting("Port")} is {Port}", "use a TCP port, for example 587");
            }
        }
        else if (string.IsNullOrWhiteSpace(Url) == string.IsNullOrWhiteSpace(UrlFile))
        {
            throw new LifeboatException(ErrorCode.Config, $"chat channel '{name}' in {configPath} needs exactly one of Url and UrlFile", "put the incoming webhook URL in a file readable by lifeboat only and name it in UrlFile");
        }
    }
}

/// <summary><c>Events:Routes:N</c>: a routing rule — which events (all conditions must hold) go to which channels.</summary>
public sealed class RouteOptions
{
    /// <summary>Type patterns (default: every type).</summary>
    public List<string> Events { get; set; } = [];

    /// <summary>At least this severity: info, warning (default), error, critical.</summary>
    public string MinSeverity { get; set; } = "warning";

    /// <summary>Only events about these sources (default: any, and events about no source).</summary>
    public List<string> Sources { get; set; } = [];

    /// <summary>Only events of these tenants (default: any).</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The channels (Events:Channels names) the events go to.</summary>
    public List<string> Channels { get; set; } = [];

    /// <summary>Within an open incident, repeats are not sent for this long after the last message (then one reminder saying how many were held back).</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromHours(1);

    internal void Validate(int index, string configPath, Dictionary<string, ChannelOptions> channels)
    {
        string Setting(string key) => $"Events:Routes:{index}:{key} in {configPath}";
        var unknown = Channels.FirstOrDefault(c => !channels.ContainsKey(c));
        if (Channels.Count == 0 || unknown is not null)
        {
            throw new LifeboatException(ErrorCode.Config, $"{Setting("Channels")} names {(unknown is null ? "no channel" : $"'{unknown}', which is not in Events:Channels")}", "name channels configured under Events:Channels (webhooks have filters of their own)");
        }

        if (Application.EventRecords.ParseSeverity(MinSeverity) is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"{Setting("MinSeverity")} is '{MinSeverity}'", "use info, warning, error or critical");
        }

        if (Events.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-' or '*')) || QuietPeriod < TimeSpan.Zero)
        {
            throw new LifeboatException(ErrorCode.Config, $"{Setting("Events")} has a pattern that is not an event type pattern, or QuietPeriod is negative", "write types or patterns such as backup.*, *.failed; docs/events.md lists the types");
        }
    }
}
