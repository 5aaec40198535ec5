using System.Collections.Concurrent;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Tenants;
using Microsoft.Extensions.Hosting;

namespace Lifeboat.Server.Hosting;

/// <summary>
/// Counts each tenant's API calls (a tenant's usage, docs/tenants.md) in memory and adds them to the catalog every
/// 30 seconds and when the server stops: one write a tenant and interval, not one a request.
/// </summary>
public sealed class ApiCallCounter(Func<Workspace> host, TimeProvider time) : BackgroundService
{
    private ConcurrentDictionary<(string Tenant, string Day), long> _counts = new();

    public void Count(string tenant, DateTimeOffset now) => _counts.AddOrUpdate((tenant, TenantAdmin.DayOf(now)), 1, (_, n) => n + 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(30), time, stoppingToken);
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Adds the counts so far to the catalog (tests call it to read them at once).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var counts = Interlocked.Exchange(ref _counts, new());
        if (counts.IsEmpty)
        {
            return;
        }

        try
        {
            await TenantRegistry.CountApiCallsAsync(host(), time, counts.Select(c => (c.Key.Tenant, c.Key.Day, c.Value)), cancellationToken);
        }
        catch (Core.LifeboatException)
        {
            // The catalog is away: these calls go uncounted (usage is a figure, not a bill).
        }
    }
}
