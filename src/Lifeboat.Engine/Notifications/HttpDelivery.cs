using System.Net.Http.Headers;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Engine.Notifications;

/// <summary>How one attempt ended: the HTTP status (none: no answer), how long it took, why it failed, the start of the answer.</summary>
public sealed record AttemptOutcome(int? Status, long LatencyMs, string? Error, string? Response, TimeSpan? RetryAfter = null)
{
    /// <summary>No error, and an HTTP answer (if any) in 2xx; an SMTP delivery has no HTTP status.</summary>
    public bool Succeeded => Error is null && Status is null or (>= 200 and < 300);

    /// <summary>The receiver says it is gone for good (410): the endpoint is disabled.</summary>
    public bool Gone => Status == 410;
}

/// <summary>
/// POSTs a JSON body (a webhook, a chat message) with a time limit, never following redirects (a redirect is an answer
/// the receiver's owner must fix, and following one could send an event somewhere else). One connection pool for the
/// process. The answer's first kilobyte is kept for the delivery log.
/// </summary>
public static class HttpDelivery
{
    private const int ExcerptBytes = 1024;

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        UseCookies = false,
    })
    {
        Timeout = System.Threading.Timeout.InfiniteTimeSpan,
    };

    public static async Task<AttemptOutcome> PostAsync(string url, string body, IReadOnlyDictionary<string, string> headers, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Lifeboat", "1"));
            foreach (var (name, value) in headers)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var excerpt = await ExcerptAsync(response, limit.Token);
            var status = (int)response.StatusCode;
            var ok = status is >= 200 and < 300;
            return new AttemptOutcome(status, Elapsed(time, started), ok ? null : $"HTTP {status} {response.ReasonPhrase}", excerpt, ok ? null : RetryAfter(response, time));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptOutcome(null, Elapsed(time, started), $"no answer within {timeout.TotalSeconds:0.#} s", null);
        }
        catch (HttpRequestException ex)
        {
            return new AttemptOutcome(null, Elapsed(time, started), Redact.Url(ex.Message), null);
        }
    }

    private static async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[ExcerptBytes];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is var n and > 0)
        {
            read += n;
        }

        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary><c>Retry-After</c> as seconds or an HTTP date; at most a day.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, TimeSpan.FromDays(1).Ticks)) : null;
    }

    private static long Elapsed(TimeProvider time, long started) => (long)time.GetElapsedTime(started).TotalMilliseconds;

    /// <summary>Whether <paramref name="url"/> is an absolute http(s) URL without credentials; a Usage error naming «field» when not.</summary>
    public static Uri CheckUrl(string? url, string field)
    {
        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{Redact.Url(url ?? "")}' is not an http:// or https:// URL", "give the receiver's full address, for example https://hooks.example.com/lifeboat");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw new LifeboatException(ErrorCode.Usage, $"«{field}» '{Redact.Url(uri.ToString())}' carries credentials", "webhooks are authenticated by their signature: leave user and password out of the URL");
        }

        return uri;
    }
}
