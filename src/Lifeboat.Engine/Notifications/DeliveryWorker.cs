using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.EventLog;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Notifications;

/// <summary>
/// The server's side of the event log (lifeboat serve, one per process): fans new events out to deliveries, makes the
/// attempts that are due (<see cref="Deliveries"/>), and applies the retention about once an hour. It wakes when this
/// process commits an event and every Events:PollInterval (events of other processes, due retries). The schedule
/// lives in the catalog, so a restart — or another node — picks up where it stopped. Each pass is a call of its own
/// (a service scope over the workspace read afresh, so configuration changes apply); a failing pass is logged and
/// tried again at the next one — it never stops the server.
/// </summary>
public sealed partial class DeliveryWorker
{
    private static readonly TimeSpan RetentionEvery = TimeSpan.FromHours(1);

    private readonly Func<Workspace> _workspace;
    private readonly IServiceScopeFactory _scopes;
    private readonly EventBus _bus;
    private readonly TimeProvider _time;
    private readonly ILogger<DeliveryWorker> _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeliveryWorker(Func<Workspace> workspace, IServiceScopeFactory scopes, EventBus bus, TimeProvider time, ILogger<DeliveryWorker> logger)
    {
        _workspace = workspace;
        _scopes = scopes;
        _bus = bus;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes after the first pass (tests wait for it before they look).</summary>
    public Task Ready => _ready.Task;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var nextRetention = _time.GetUtcNow();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var poll = TimeSpan.FromSeconds(1);
                try
                {
                    await using var scope = Scope(out var call);
                    poll = call.Workspace.OptionsOrEmpty.Events.PollInterval;
                    var deliveries = scope.ServiceProvider.GetRequiredService<Deliveries>();
                    await deliveries.DispatchAsync(cancellationToken);
                    await deliveries.AttemptDueAsync(cancellationToken);
                    if (_time.GetUtcNow() >= nextRetention)
                    {
                        nextRetention = _time.GetUtcNow() + RetentionEvery;
                        var expired = await scope.ServiceProvider.GetRequiredService<ExpireEvents>().ExecuteAsync(new ExpireEventsRequest(), cancellationToken);
                        if (expired.Removed > 0)
                        {
                            LogExpired(_logger, expired.Removed, expired.Cutoff);
                        }
                    }
                }
                catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException)
                {
                    LogPassFailed(_logger, ex.Message);
                }

                _ready.TrySetResult();
                await _bus.WaitAsync(poll, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _ready.TrySetResult();
        }
    }

    private AsyncServiceScope Scope(out CallContext call)
    {
        var scope = _scopes.CreateAsyncScope();
        call = scope.ServiceProvider.GetRequiredService<CallContext>();
        call.Workspace = _workspace();
        call.Actor = Actor.System;
        return scope;
    }

    [LoggerMessage(EventId = 7201, Level = LogLevel.Information, Message = "Event retention removed {Count} delivered event(s) older than {Cutoff}")]
    private static partial void LogExpired(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 7202, Level = LogLevel.Error, Message = "The event delivery pass failed (it is tried again): {Error}")]
    private static partial void LogPassFailed(ILogger logger, string error);
}
