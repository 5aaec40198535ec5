using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Lifeboat.Testing;

/// <summary>One request the receiver got, as it printed it (verified by the Standard Webhooks reference library).</summary>
public sealed record ReceivedWebhook(string Path, string? WebhookId, string? Timestamp, string? Signature, string? ContentType, bool Verified, string? Error, int Status, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// tests/peers/webhook-receiver.js on a free loopback port: verifies every request with the npm package
/// <c>standardwebhooks</c> (never Lifeboat's code) and answers the statuses it is told. Node and
/// <c>npm ci --prefix tests/peers</c> are required (missing: skip locally, fail on CI).
/// </summary>
public sealed partial class WebhookReceiver : IAsyncDisposable
{
    public const string Requirement = "node and the standardwebhooks package (`npm ci --prefix tests/peers`)";

    private readonly PeerProcess _process;
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebhookReceiver(PeerProcess process)
    {
        _process = process;
        process.LinePrinted += OnLine;
    }

    public static string? Script => PeerPaths.RepositoryRoot is { } root && PeerPaths.NpmFile("standardwebhooks/package.json") is not null
        ? Path.Combine(root, "tests", "peers", "webhook-receiver.js")
        : null;

    public static bool Available => Script is not null && PeerPaths.OnPath("node") is not null;

    public int Port { get; private set; }

    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public IReadOnlyList<ReceivedWebhook> Received => _received.ToList();

    public static async Task<WebhookReceiver> StartAsync(string? secret = null, IEnumerable<int>? statuses = null, CancellationToken cancellationToken = default)
    {
        Peers.Require(Available, Requirement);
        var args = new List<string> { Script! };
        if (secret is not null)
        {
            args.AddRange(["--secret", secret]);
        }

        if (statuses is not null)
        {
            args.AddRange(["--statuses", string.Join(',', statuses)]);
        }

        var receiver = new WebhookReceiver(PeerProcess.Start("webhook-receiver", PeerPaths.OnPath("node")!, args));
        try
        {
            var ready = await receiver._process.WaitForOutputAsync(Listening(), TimeSpan.FromSeconds(30), cancellationToken);
            receiver.Port = int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture);
            return receiver;
        }
        catch
        {
            await receiver.DisposeAsync();
            throw;
        }
    }

    /// <summary>Changes what the receiver verifies with and answers (null: leave as it is; retryAfter 0 or less: none).</summary>
    public async Task ControlAsync(string? secret = null, IEnumerable<int>? statuses = null, int? retryAfterSeconds = null, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        var control = new Dictionary<string, object?>();
        if (secret is not null)
        {
            control["secret"] = secret;
        }

        if (statuses is not null)
        {
            control["statuses"] = statuses.ToArray();
        }

        if (retryAfterSeconds is { } r)
        {
            control["retryAfter"] = r > 0 ? r : null;
        }

        using var response = await http.PostAsJsonAsync(new Uri(Url("/_control")), control, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Waits until what was received satisfies <paramref name="condition"/>; fails with what arrived when the deadline passes.</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitAsync(Func<IReadOnlyList<ReceivedWebhook>, bool> condition, TimeSpan deadline, CancellationToken cancellationToken)
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
                throw new TimeoutException($"the webhook receiver did not get what was expected within {deadline.TotalSeconds:0} s; it got {now.Count} request(s):\n{string.Join('\n', now.Select(r => $"{r.Status} verified={r.Verified} {r.Error} {r.Body[..Math.Min(200, r.Body.Length)]}"))}\n{_process.Output[..Math.Min(2000, _process.Output.Length)]}");
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
        _received.Enqueue(new ReceivedWebhook(
            e.GetProperty("path").GetString()!, e.GetProperty("webhookId").GetString(), e.GetProperty("timestamp").GetString(), e.GetProperty("signature").GetString(),
            e.GetProperty("contentType").GetString(), e.GetProperty("verified").GetBoolean(), e.GetProperty("error").GetString(), e.GetProperty("status").GetInt32(), e.GetProperty("body").GetString()!));
        lock (_lock)
        {
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    [GeneratedRegex(@"webhook receiver listening on 127\.0\.0\.1:(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
