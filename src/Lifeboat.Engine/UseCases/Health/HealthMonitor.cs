using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.UseCases.Health;

/// <summary>
/// Runs <see cref="EvaluateHealth"/> every Health:EvaluateInterval in <c>lifeboat serve</c> (the first right after the
/// start), each pass a call of its own over the workspace read afresh. A failing pass is logged and tried again at the
/// next one; it never stops the server. An interval of zero turns the evaluation off.
/// </summary>
public sealed partial class HealthMonitor
{
    private readonly Func<Workspace> _workspace;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<HealthMonitor> _logger;

    public HealthMonitor(Func<Workspace> workspace, IServiceScopeFactory scopes, TimeProvider time, ILogger<HealthMonitor> logger)
    {
        _workspace = workspace;
        _scopes = scopes;
        _time = time;
        _logger = logger;
    }

    private TaskCompletionSource _passed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when the next evaluation pass ends (its state changes and events are in the catalog, or it failed and
    /// was logged): for whoever must know that the server has looked again, such as a test that no second alert came.
    /// </summary>
    public Task NextPassAsync() => Volatile.Read(ref _passed).Task;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var interval = TimeSpan.FromMinutes(1);
                try
                {
                    await using var scope = _scopes.CreateAsyncScope();
                    var call = scope.ServiceProvider.GetRequiredService<CallContext>();
                    call.Workspace = _workspace();
                    call.Actor = Actor.System;
                    interval = call.Workspace.OptionsOrEmpty.Health.EvaluateInterval;
                    if (interval > TimeSpan.Zero)
                    {
                        var result = await scope.ServiceProvider.GetRequiredService<EvaluateHealth>().ExecuteAsync(new EvaluateHealthRequest(), cancellationToken);
                        foreach (var change in result.Changes)
                        {
                            LogChange(_logger, change.Source ?? "-", change.Check, change.PreviousState ?? "healthy", change.State, change.Event ?? "none");
                        }
                    }
                    else
                    {
                        interval = TimeSpan.FromMinutes(1); // off: look at the setting again later
                    }
                }
                catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException)
                {
                    LogPassFailed(_logger, ex.Message);
                }

                Interlocked.Exchange(ref _passed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                await Task.Delay(interval, _time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 7301, Level = LogLevel.Information, Message = "Health check {Check} of {Source}: {Previous} -> {State} (event {EventType})")]
    private static partial void LogChange(ILogger logger, string source, string check, string previous, string state, string eventType);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Error, Message = "The health evaluation failed (it is tried again): {Error}")]
    private static partial void LogPassFailed(ILogger logger, string error);
}
