using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application;

/// <summary>Event ids: <c>evt_</c>, the time to the millisecond, and 40 random bits; they sort by time.</summary>
public static class EventIds
{
    public static string New(DateTimeOffset now)
        => "evt_" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
}

/// <summary>Events as the catalog keeps them: the envelope's fields, the data as JSON with every text value redacted.</summary>
public static class EventRecords
{
    public static EventRecord From(LifeboatEvent e) => new()
    {
        Id = e.Id,
        Time = e.Time,
        Tenant = e.Tenant,
        Type = e.Type,
        Source = e.Source,
        Severity = SeverityName(e.Severity),
        SeverityRank = (int)e.Severity,
        CorrelationId = e.CorrelationId,
        Data = DataJson(e.Data),
    };

    /// <summary>
    /// The data as compact JSON. Every string value passes through <see cref="Redact.ConnectionString"/>: an error message
    /// that quotes a connection string or a URL with credentials loses the secret before it is stored or sent.
    /// </summary>
    public static string DataJson(EventData data)
    {
        var node = JsonSerializer.SerializeToNode(data, LifeboatJson.Compact.EventData) ?? new JsonObject();
        if (node is JsonObject o)
        {
            // The envelope's own fields, which the typed data derives (an override of an ignored property is serialised).
            o.Remove("type");
            o.Remove("severity");
            o.Remove("about");
        }

        RedactStrings(node);
        return node.ToJsonString();
    }

    public static string SeverityName(EventSeverity severity) => severity switch
    {
        EventSeverity.Warning => "warning",
        EventSeverity.Error => "error",
        EventSeverity.Critical => "critical",
        _ => "info",
    };

    /// <summary>The severity named <paramref name="name"/> (info, warning, error, critical), or null.</summary>
    public static EventSeverity? ParseSeverity(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        "info" => EventSeverity.Info,
        "warning" => EventSeverity.Warning,
        "error" => EventSeverity.Error,
        "critical" => EventSeverity.Critical,
        _ => null,
    };

    private static void RedactStrings(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var text))
                    {
                        o[key] = Redact.ConnectionString(text);
                    }
                    else if (value is not null)
                    {
                        RedactStrings(value);
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue<string>(out var text))
                    {
                        a[i] = Redact.ConnectionString(text);
                    }
                    else if (a[i] is { } item)
                    {
                        RedactStrings(item);
                    }
                }

                break;
        }
    }
}

/// <summary>
/// Tells whoever waits in this process that events were committed (the live stream, the delivery worker), so they
/// read the catalog now instead of at their next poll. Events of other processes (a CLI backup, wal-push) are found
/// by the poll. Thread-safe; a singleton.
/// </summary>
public sealed class EventBus
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Announce"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Announce(string tenant)
    {
        _ = tenant;
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Waits for the next announcement or <paramref name="poll"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan poll, TimeProvider time, CancellationToken cancellationToken)
    {
        var next = Next;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(poll, time, timeout.Token);
        await Task.WhenAny(next, delay);
        await timeout.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>
/// The event log sink: writes every event into the catalog's outbox — a run's events in the same transaction as the run
/// history row they describe (a secondary's failed wal-push becomes a failed run of that target) — then tells the bus.
/// The catalog is a convenience for the operation itself: when it cannot be written, the operation goes on and a
/// warning says which event was not recorded.
/// </summary>
public sealed partial class EventLogSink : IEventSink
{
    private readonly CatalogAccess _catalog;
    private readonly EventBus _bus;
    private readonly ILogger<EventLogSink> _logger;

    public EventLogSink(CatalogAccess catalog, EventBus bus, ILogger<EventLogSink> logger)
    {
        _catalog = catalog;
        _bus = bus;
        _logger = logger;
    }

    public async ValueTask WriteAsync(LifeboatEvent e, CancellationToken cancellationToken)
    {
        var run = RunOf(e);
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            var record = EventRecords.From(e);
            if (run is null)
            {
                await catalog.AppendEventsAsync([record], CancellationToken.None);
            }
            else
            {
                await catalog.RecordRunAsync(run, [record], CancellationToken.None);
            }

            _bus.Announce(e.Tenant);
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogCatalogUnavailable(_logger, e.Type, e.Id, ex.Message);
        }
    }

    private static RunRecord? RunOf(LifeboatEvent e) => e.Data switch
    {
        RunStarted s => new RunRecord { Id = s.RunId, Kind = s.Kind, Source = s.Source, Target = s.Target, Status = RunStatus.Running, Started = s.Started },
        RunFinished f => new RunRecord
        {
            Id = f.RunId, Kind = f.Kind, Source = f.Source, Target = f.Target, Status = f.Status, Started = f.Started, Finished = f.Finished,
            BytesRead = f.BytesRead, BytesStored = f.BytesStored, BackupId = f.BackupId, Error = f.Error, Metadata = f.Metadata,
        },
        WalPushFailed w => new RunRecord
        {
            Id = CallContext.NewId(), Kind = JobKinds.WalPush, Source = w.Source, Target = w.Target == WalPushFailed.PrimaryTarget ? null : w.Target, Status = RunStatus.Failed, Started = e.Time, Finished = e.Time,
            Error = $"WAL file {w.File} of '{w.Source}': {w.Error}",
        },
        _ => null,
    };

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "The event {EventType} ({EventId}) and its run history were not recorded: {Error}")]
    private static partial void LogCatalogUnavailable(ILogger logger, string eventType, string eventId, string error);
}

/// <summary>
/// The logging scope of one call or run: every log line written inside it carries the correlation id its events carry
/// (<c>BeginScope(new CorrelationScope(id))</c>; log writers that print scopes show it as <c>[correlation=…]</c>).
/// </summary>
public sealed class CorrelationScope(string correlationId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public string CorrelationId { get; } = correlationId;

    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] => index == 0 ? new("CorrelationId", CorrelationId) : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "correlation=" + CorrelationId;
}
