using System.Globalization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application;

/// <summary>A maintenance window in force: of one source, or of the whole workspace (<see cref="Source"/> null).</summary>
/// <param name="Source">The source in maintenance; null: every source (global maintenance).</param>
/// <param name="Ends">When it ends by itself; null: when someone leaves it.</param>
/// <param name="StartedBy">Who entered it (the actor's name).</param>
public sealed record MaintenanceWindow(string? Source, string? Reason, DateTimeOffset Started, DateTimeOffset? Ends, string StartedBy)
{
    internal static MaintenanceWindow From(MaintenanceRecord r) => new(r.Scope == MaintenanceRecord.Global ? null : r.Scope, r.Reason, r.Started, r.Ends, r.Actor);

    /// <summary>"source 'app'" or "every source".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Scope => Source is null ? "every source" : $"source '{Source}'";

    /// <summary>One line for a person: the scope, the reason, the end.</summary>
    public string Describe()
        => $"{Scope} is in maintenance" + (Reason is { Length: > 0 } r ? $" ({r})" : "") + " since " + Iso(Started)
           + (Ends is { } e ? ", until " + Iso(e) : ", until it is left");

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>A write refused because its source is in maintenance mode (<see cref="ErrorCode.Maintenance"/>): the window says until when.</summary>
public sealed class MaintenanceException : LifeboatException
{
    public MaintenanceException(string operation, MaintenanceWindow window)
        : base(ErrorCode.Maintenance, $"{operation} refused: {window.Describe()}", window.Ends is null
            ? "wait until an administrator leaves maintenance mode (`lifeboat maintenance leave`, DELETE /api/v1/maintenance)"
            : "wait until it ends, or leave maintenance mode sooner (`lifeboat maintenance leave`, DELETE /api/v1/maintenance)")
        => Window = window;

    public MaintenanceWindow Window { get; }
}

/// <summary>
/// The one place that says whether a source is in maintenance mode: its own window or the global one, from the catalog,
/// compared with the call's clock (a window whose end has passed is over: no timer). Use cases that write a source call
/// <see cref="EnsureOpenAsync"/>, so the CLI, the server and the scheduler refuse alike. The catalog is a convenience:
/// when it cannot be read, nothing is in maintenance (a backup never fails because the catalog is away). Scoped.
/// </summary>
public sealed partial class MaintenanceGate
{
    private readonly CallContext _call;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly ILogger<MaintenanceGate> _logger;
    private readonly TenantGate _tenant;

    public MaintenanceGate(CallContext call, CatalogAccess catalog, TimeProvider time, ILogger<MaintenanceGate> logger, TenantGate tenant)
    {
        _call = call;
        _catalog = catalog;
        _time = time;
        _logger = logger;
        _tenant = tenant;
    }

    /// <summary>The windows in force now, the global one first.</summary>
    public async Task<IReadOnlyList<MaintenanceWindow>> ActiveAsync(CancellationToken cancellationToken)
    {
        List<MaintenanceRecord> records;
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            records = await catalog.MaintenanceAsync(_call.Workspace.Name, cancellationToken);
        }
        catch (LifeboatException ex)
        {
            LogCatalogUnavailable(_logger, ex.Message);
            return [];
        }

        var now = _time.GetUtcNow();
        return records.Where(r => r.Ends is not { } end || end > now)
            .OrderBy(r => r.Scope == MaintenanceRecord.Global ? 0 : 1).ThenBy(r => r.Scope, StringComparer.Ordinal)
            .Select(MaintenanceWindow.From).ToList();
    }

    /// <summary>The window that applies to <paramref name="source"/> (its own first, else the global one); for null, the global one only.</summary>
    public async Task<MaintenanceWindow?> ForAsync(string? source, CancellationToken cancellationToken)
    {
        var active = await ActiveAsync(cancellationToken);
        return active.FirstOrDefault(w => source is not null && w.Source == source) ?? active.FirstOrDefault(w => w.Source is null);
    }

    /// <summary>
    /// Throws <see cref="MaintenanceException"/> when <paramref name="source"/> (null: the workspace as a whole) is in
    /// maintenance, unless the call ignores maintenance (<see cref="CallContext.IgnoreMaintenance"/>); first, a
    /// <see cref="ErrorCode.Suspended"/> refusal when the call's tenant is suspended (<see cref="TenantGate"/>).
    /// </summary>
    /// <param name="operation">What is refused, for the message: "backup of 'app'".</param>
    public async Task EnsureOpenAsync(string? source, string operation, CancellationToken cancellationToken)
    {
        // A suspended tenant writes nothing, whatever maintenance says (--ignore-maintenance does not lift it).
        await _tenant.EnsureWritableAsync(operation, cancellationToken);
        if (_call.IgnoreMaintenance)
        {
            return;
        }

        if (await ForAsync(source, cancellationToken) is { } window)
        {
            throw new MaintenanceException(operation, window);
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "Maintenance mode cannot be read from the catalog ({Error}): treating no source as in maintenance")]
    private static partial void LogCatalogUnavailable(ILogger logger, string error);
}
