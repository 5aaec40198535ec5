using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// One scheduler per tenant (docs/tenants.md, "Background work"), beside the server's own: every
/// <see cref="Interval"/> it reads the registry, starts the scheduler of a new tenant and stops the one of a tenant
/// being removed or gone. A suspended tenant keeps its scheduler, which skips its due runs with a
/// <c>schedule.skipped</c> event. A tenant whose configuration is broken is logged and retried on the next pass; the
/// others go on.
/// </summary>
public sealed partial class TenantSchedulers(Func<Workspace> host, IServiceScopeFactory scopes, TimeProvider time, ILoggerFactory logs) : BackgroundService
{
    private readonly Dictionary<string, (CancellationTokenSource Stop, Task Run)> _running = new(StringComparer.Ordinal);
    private readonly ILogger _logger = logs.CreateLogger<TenantSchedulers>();

    /// <summary>How often the registry is read for tenants added or removed.</summary>
    public static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await PassAsync(stoppingToken);
                await Task.Delay(Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        foreach (var (stop, _) in _running.Values)
        {
            await stop.CancelAsync();
        }

        await Task.WhenAll(_running.Values.Select(r => r.Run));
    }

    private async Task PassAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<TenantRecord> tenants;
        try
        {
            tenants = await TenantRegistry.ListAsync(host(), time, cancellationToken);
        }
        catch (Core.LifeboatException ex)
        {
            LogRegistryUnavailable(_logger, ex.Message);
            return;
        }

        var wanted = tenants.Where(t => t.State != TenantRecord.Removing).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in _running.Keys.Where(n => !wanted.Contains(n) || _running[n].Run.IsCompleted).ToList())
        {
            await _running[name].Stop.CancelAsync();
            _running.Remove(name);
        }

        foreach (var name in wanted.Where(n => !_running.ContainsKey(n)))
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var scheduler = new Scheduler(() => TenantWorkspaces.Open(host(), name), scopes, time, logs.CreateLogger<Scheduler>());
            _running[name] = (stop, Task.Run(() => RunAsync(name, scheduler, stop.Token), CancellationToken.None));
        }
    }

    private async Task RunAsync(string tenant, Scheduler scheduler, CancellationToken cancellationToken)
    {
        try
        {
            await scheduler.RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is Core.LifeboatException or IOException)
        {
            // Its configuration or catalog rows are broken: the next pass tries again; other tenants are not touched.
            LogTenantFailed(_logger, tenant, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5251, Level = LogLevel.Warning, Message = "The tenant registry cannot be read ({Error}): tenants' schedulers are not started or stopped this pass")]
    private static partial void LogRegistryUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = 5252, Level = LogLevel.Error, Message = "The scheduler of tenant {Tenant} stopped: {Error}; it is started again on the next pass")]
    private static partial void LogTenantFailed(ILogger logger, string tenant, string error);
}
