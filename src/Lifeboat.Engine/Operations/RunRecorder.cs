using System.Security.Cryptography;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Engine.Operations;

/// <summary>What a finished job reports to the run history.</summary>
public sealed record RunFigures(long BytesRead = 0, long BytesStored = 0, string? BackupId = null, string? Metadata = null);

/// <summary>
/// Records every job in the catalog's run history (kind, source, target, status, times, figures, error). The catalog is
/// a convenience: when it cannot be written, the job still runs and a warning says so.
/// </summary>
public static partial class RunRecorder
{
    public static async Task<T> RecordAsync<T>(EngineContext context, string kind, string? source, string? target, Func<Task<T>> job, Func<T, RunFigures> figures, CancellationToken cancellationToken)
    {
        var logger = context.LoggerFactory.CreateLogger("Lifeboat.Catalog");
        var run = new RunRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
            Kind = kind,
            Source = source,
            Target = target,
            Status = RunStatus.Running,
            Started = context.Time.GetUtcNow(),
        };
        var catalog = await TryAsync(logger, () => context.OpenCatalogAsync(cancellationToken));
        if (catalog is not null)
        {
            await TryAsync(logger, async () => { await catalog.RecordRunAsync(run, cancellationToken); return true; });
        }

        try
        {
            var result = await job();
            var f = figures(result);
            if (catalog is not null)
            {
                await TryAsync(logger, async () =>
                {
                    await catalog.RecordRunAsync(run with { Status = RunStatus.Succeeded, Finished = context.Time.GetUtcNow(), BytesRead = f.BytesRead, BytesStored = f.BytesStored, BackupId = f.BackupId, Metadata = f.Metadata }, CancellationToken.None);
                    return true;
                });
            }

            return result;
        }
        catch (Exception ex)
        {
            if (catalog is not null)
            {
                var status = ex is OperationCanceledException ? RunStatus.Cancelled : RunStatus.Failed;
                await TryAsync(logger, async () =>
                {
                    await catalog.RecordRunAsync(run with { Status = status, Finished = context.Time.GetUtcNow(), Error = ex.Message }, CancellationToken.None);
                    return true;
                });
            }

            throw;
        }
    }

    /// <summary>Records failures that did not fail the command (a secondary target that missed a WAL file), best effort.</summary>
    public static async Task RecordFailuresAsync(EngineContext context, string kind, IEnumerable<(string Target, string Error)> failures, CancellationToken cancellationToken)
    {
        var logger = context.LoggerFactory.CreateLogger("Lifeboat.Catalog");
        await TryAsync(logger, async () =>
        {
            var catalog = await context.OpenCatalogAsync(cancellationToken);
            var now = context.Time.GetUtcNow();
            foreach (var (target, error) in failures)
            {
                await catalog.RecordRunAsync(
                    new RunRecord { Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), Kind = kind, Target = target, Status = RunStatus.Failed, Started = now, Finished = now, Error = error },
                    cancellationToken);
            }

            return true;
        });
    }

    /// <summary>Keeps the catalog's cache of the repository up to date after a backup (best effort).</summary>
    public static async Task CacheBackupAsync(EngineContext context, Repository.Format.Manifest manifest, CancellationToken cancellationToken)
    {
        var logger = context.LoggerFactory.CreateLogger("Lifeboat.Catalog");
        await TryAsync(logger, async () =>
        {
            var catalog = await context.OpenCatalogAsync(cancellationToken);
            await catalog.UpsertBackupsAsync([CatalogRebuilder.ToRecord(manifest)], cancellationToken);
            return true;
        });
    }

    /// <summary>Removes deleted backups from the catalog's cache (best effort).</summary>
    public static async Task ForgetBackupsAsync(EngineContext context, IEnumerable<string> ids, CancellationToken cancellationToken)
    {
        var logger = context.LoggerFactory.CreateLogger("Lifeboat.Catalog");
        await TryAsync(logger, async () =>
        {
            var catalog = await context.OpenCatalogAsync(cancellationToken);
            foreach (var id in ids)
            {
                await catalog.DeleteBackupAsync(id, cancellationToken);
            }

            return true;
        });
    }

    private static async Task<TResult?> TryAsync<TResult>(ILogger logger, Func<Task<TResult>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is LifeboatException or System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            LogCatalogUnavailable(logger, ex.Message);
            return default;
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "The run history was not recorded: {Error}")]
    private static partial void LogCatalogUnavailable(ILogger logger, string error);
}
