using Lifeboat.Engine.Application;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Engine.UseCases.Health;

/// <summary>
/// Status reports computed recently, per workspace, configuration and source filter (a singleton of the server): callers
/// asking within <see cref="GetStatusRequest.MaxAge"/> share one report, and callers arriving while it is being computed
/// wait for that computation instead of starting their own. Past half its age a report is refreshed in the background
/// while it is still served, so pollers rarely wait; a report older than the age asked for is never served. A failed
/// computation is not kept. Every event (a run started or finished) and every audited change forgets them all, so the
/// cache serves polling between changes, never a status from before a change the caller made or can see.
/// </summary>
public sealed class StatusCache : IEventSink
{
    private readonly Dictionary<string, Entry> _reports = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly IServiceScopeFactory _scopes;

    public StatusCache(TimeProvider time, IServiceScopeFactory scopes)
    {
        _time = time;
        _scopes = scopes;
    }

    public void Invalidate()
    {
        lock (_reports)
        {
            _reports.Clear();
        }
    }

    public ValueTask WriteAsync(LifeboatEvent e, CancellationToken cancellationToken)
    {
        Invalidate();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// A report of <paramref name="workspace"/> at most <paramref name="maxAge"/> old. Computed in a scope of its own: it
    /// may outlive the request that started it (a background refresh, or callers sharing it after the first one left).
    /// </summary>
    public Task<HealthReport> GetAsync(Workspace workspace, GetStatusRequest request, TimeSpan maxAge, CancellationToken cancellationToken)
    {
        // The configuration file's identity is part of the key: an edit (a source added) is seen at once.
        var key = $"{workspace.Name}\n{workspace.ConfigPath}\n{File.GetLastWriteTimeUtc(workspace.ConfigPath).Ticks}\n{request.Source}";
        var own = workspace.Reopen();
        return GetAsync(key, maxAge, async () =>
        {
            await using var scope = _scopes.CreateAsyncScope();
            var call = scope.ServiceProvider.GetRequiredService<CallContext>();
            call.Workspace = own.Reopen();
            call.Actor = Actor.System;
            return await scope.ServiceProvider.GetRequiredService<GetStatus>().ExecuteAsync(request with { MaxAge = TimeSpan.Zero }, CancellationToken.None);
        }, cancellationToken);
    }

    private Task<HealthReport> GetAsync(string key, TimeSpan maxAge, Func<Task<HealthReport>> compute, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        Task<HealthReport> answer;
        lock (_reports)
        {
            _reports.TryGetValue(key, out var entry);
            if (entry is { Report.IsCompletedSuccessfully: true } && now - entry.Started <= maxAge)
            {
                // Fresh enough; past half its age, start the next one (once) for the callers after this one.
                if (now - entry.Started > maxAge / 2 && entry.Next is null)
                {
                    var next = new Entry(now, Start(compute));
                    entry.Next = next;
                    next.Report.ContinueWith(t => Promote(key, entry, next, t), TaskScheduler.Default);
                }

                answer = entry.Report;
            }
            else if (entry is { Report.IsCompleted: false } && now - entry.Started <= maxAge)
            {
                answer = entry.Report; // being computed: share it
            }
            else if (entry?.Next is { } pending && now - pending.Started <= maxAge)
            {
                answer = pending.Report;
            }
            else
            {
                var fresh = new Entry(now, Start(compute));
                _reports[key] = fresh;
                fresh.Report.ContinueWith(t => Forget(key, fresh, t), TaskScheduler.Default);
                answer = fresh.Report;
            }
        }

        return answer.WaitAsync(cancellationToken);
    }

    private static Task<HealthReport> Start(Func<Task<HealthReport>> compute) => Task.Run(compute, CancellationToken.None);

    private void Promote(string key, Entry current, Entry next, Task<HealthReport> done)
    {
        lock (_reports)
        {
            if (_reports.TryGetValue(key, out var entry) && entry == current)
            {
                if (done.IsCompletedSuccessfully)
                {
                    _reports[key] = next;
                }
                else
                {
                    current.Next = null; // try again on a later call
                }
            }
        }
    }

    private void Forget(string key, Entry entry, Task<HealthReport> done)
    {
        if (done.IsCompletedSuccessfully)
        {
            return;
        }

        lock (_reports)
        {
            if (_reports.TryGetValue(key, out var stored) && stored == entry)
            {
                _reports.Remove(key);
            }
        }
    }

    private sealed class Entry(DateTimeOffset started, Task<HealthReport> report)
    {
        public DateTimeOffset Started { get; } = started;

        public Task<HealthReport> Report { get; } = report;

        public Entry? Next { get; set; }
    }
}
