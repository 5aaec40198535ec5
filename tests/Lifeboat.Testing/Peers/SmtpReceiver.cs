using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using MimeKit;

namespace Lifeboat.Testing;

/// <summary>One message the SMTP server accepted: the envelope as it printed it and the message as saved (.eml), parsed by MimeKit.</summary>
public sealed record ReceivedMail(string File, string MailFrom, IReadOnlyList<string> RcptTos, string? Login, bool Tls)
{
    public MimeMessage Message => MimeMessage.Load(File);

    /// <summary>The message's raw bytes as text (headers and every part, encoded as sent).</summary>
    public string Raw => System.IO.File.ReadAllText(File);
}

/// <summary>
/// tests/peers/smtp-receiver.py (Debian's python3-aiosmtpd) on a free loopback port: saves every message it accepts as
/// an .eml file in its own directory. With <c>tls</c> it offers STARTTLS with a self-signed certificate for 127.0.0.1
/// (<see cref="Certificate"/>) and refuses mail before it; with a <c>user</c> it requires AUTH over TLS with
/// <see cref="Password"/>. Missing python3-aiosmtpd: skip locally, fail on CI.
/// </summary>
public sealed partial class SmtpReceiver : IAsyncDisposable
{
    public const string Requirement = "Debian's python3-aiosmtpd (`apt-get install python3-aiosmtpd`)";

    /// <summary>Debian's interpreter, which sees Debian's python3 packages (a python3 first on PATH may not).</summary>
    private const string Python = "/usr/bin/python3";

    private readonly TempDir _dir;
    private readonly PeerProcess _process;
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SmtpReceiver(TempDir dir, PeerProcess process, string? user, string? password)
    {
        _dir = dir;
        _process = process;
        User = user;
        Password = password;
        process.LinePrinted += OnLine;
    }

    public static string? Script => PeerPaths.RepositoryRoot is { } root ? Path.Combine(root, "tests", "peers", "smtp-receiver.py") : null;

    public static bool Available => Script is not null && File.Exists(Python)
        && (Directory.Exists("/usr/lib/python3/dist-packages/aiosmtpd") || Directory.Exists("/usr/local/lib/python3/dist-packages/aiosmtpd"));

    public int Port { get; private set; }

    public string? User { get; }

    public string? Password { get; }

    /// <summary>The server's self-signed certificate (PEM), for the channel's CertificateFile.</summary>
    public string Certificate => _dir.Combine("cert.pem");

    public IReadOnlyList<ReceivedMail> Received => _received.ToList();

    /// <summary>What the server printed (the failed logins too), for failure messages and assertions.</summary>
    public string Output => _process.Output;

    public static async Task<SmtpReceiver> StartAsync(bool tls = false, string? user = null, CancellationToken cancellationToken = default)
    {
        Peers.Require(Available, Requirement);
        var dir = new TempDir("lifeboat-smtp-");
        try
        {
            Directory.CreateDirectory(dir.Combine("mail"));
            var args = new List<string> { Script!, "--dir", dir.Combine("mail") };
            if (tls)
            {
                SelfSignedCertificate.Write(dir.Combine("cert.pem"), dir.Combine("key.pem"));
                args.AddRange(["--cert", dir.Combine("cert.pem"), "--key", dir.Combine("key.pem"), "--require-tls"]);
            }

            string? password = null;
            if (user is not null)
            {
                password = "smtp-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
                args.AddRange(["--user", user, "--password", password]);
            }

            var receiver = new SmtpReceiver(dir, PeerProcess.Start("smtp-receiver", Python, args, new Dictionary<string, string?> { ["PYTHONUNBUFFERED"] = "1" }), user, password);
            try
            {
                var ready = await receiver._process.WaitForOutputAsync(Listening(), TimeSpan.FromSeconds(30), cancellationToken);
                receiver.Port = int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture);
                return receiver;
            }
            catch
            {
                await receiver._process.DisposeAsync();
                throw;
            }
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>Waits until what was received satisfies <paramref name="condition"/>; fails with what arrived when the deadline passes.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitAsync(Func<IReadOnlyList<ReceivedMail>, bool> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            var now = Received;
            if (condition(now))
            {
                return now;
            }

            try
            {
                await changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the SMTP server did not get what was expected within {deadline.TotalSeconds:0} s; it got {now.Count} message(s): {string.Join(", ", now.Select(m => m.Message.Subject))}\n{_process.Output}");
            }
        }
    }

    private void OnLine(string line)
    {
        if (!line.StartsWith('{'))
        {
            return;
        }

        var e = JsonDocument.Parse(line).RootElement;
        if (!e.TryGetProperty("file", out var file))
        {
            return;
        }

        _received.Enqueue(new ReceivedMail(
            file.GetString()!, e.GetProperty("mailFrom").GetString()!, e.GetProperty("rcptTos").EnumerateArray().Select(r => r.GetString()!).ToList(),
            e.GetProperty("login").GetString(), e.GetProperty("tls").GetBoolean()));
        lock (_lock)
        {
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }


    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _dir.Dispose();
    }

    [GeneratedRegex(@"smtp receiver listening on 127\.0\.0\.1:(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
