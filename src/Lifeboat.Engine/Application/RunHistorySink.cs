using Lifeboat.Catalog;
using Lifeboat.Core;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Application;

/// <summary>
/// The default event sink: turns run events into the catalog's run history (and a secondary's failed wal-push into a
/// failed run of that target). The catalog is a convenience: when it cannot be written the job still runs, and a
/// warning says so.
/// </summary>
public sealed partial class RunHistorySink : IEventSink
{
    private readonly CatalogAccess _catalog;
    private readonly ILogger<RunHistorySink> _logger;

    public RunHistorySink(CatalogAccess catalog, ILogger<RunHistorySink> logger)
    {
        _catalog = catalog;
        _logger = logger;
    }

    public async ValueTask WriteAsync(LifeboatEvent e, CancellationToken cancellationToken)
    {
        var run = e.Data switch
        {
            RunStarted s => new RunRecord { Id = s.RunId, Kind = s.Kind, Source = s.Source, Target = s.Target, Status = RunStatus.Running, Started = s.Started },
            RunFinished f => new RunRecord
            {
                Id = f.RunId, Kind = f.Kind, Source = f.Source, Target = f.Target, Status = f.Status, Started = f.Started, Finished = f.Finished,
                BytesRead = f.BytesRead, BytesStored = f.BytesStored, BackupId = f.BackupId, Error = f.Error, Metadata = f.Metadata,
            },
            WalPushFailed w => new RunRecord
            {
                Id = CallContext.NewId(), Kind = JobKinds.WalPush, Source = w.Source, Target = w.Target, Status = RunStatus.Failed, Started = e.Time, Finished = e.Time,
                Error = $"WAL file {w.File} of '{w.Source}': {w.Error}",
            },
            _ => null,
        };
        if (run is null)
        {
            return;
        }

        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            await catalog.RecordRunAsync(run, CancellationToken.None);
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogCatalogUnavailable(_logger, ex.Message);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "The run history was not recorded: {Error}")]
    private static partial void LogCatalogUnavailable(ILogger logger, string error);
}
