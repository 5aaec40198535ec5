using System.Text.Json.Serialization;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Type">full: read everything; incr: skip what did not change since the last backup; null: incr when there is one.</param>
public sealed record BackupSourceRequest(string Source, string? Type = null);

/// <summary>A committed backup: the backup itself, the paths that could not be read, and the replication that followed.</summary>
/// <param name="Replication">Null when there is no secondary target to replicate to after a backup.</param>
/// <param name="ReplicationError">Replication did not even start (the backup is committed on the primary all the same).</param>
public sealed record BackupSourceResult(
    [property: JsonIgnore] BackupView Backup,
    [property: JsonPropertyOrder(1)] IReadOnlyList<string> Problems,
    [property: JsonIgnore] ReplicateReport? Replication,
    [property: JsonPropertyOrder(1), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ReplicationError) : BackupView(Backup)
{
    /// <summary>The JSON's <c>replication</c>: what replication did on each secondary target (an array, as `backup --json` has always shown it).</summary>
    [JsonPropertyName("replication")]
    [JsonPropertyOrder(1)]
    public IReadOnlyList<ReplicaReport>? ReplicationTargets => Replication?.Targets;

    /// <summary>What the backup left out by design and says so (sockets: `x.sock: socket ignored …`): warnings, not problems; null when none.</summary>
    [JsonPropertyOrder(1)]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>
/// `backup --source`: backs a source up to the primary target (checked first: bad input writes nothing; free space
/// checked on a local repository), records the run, keeps the catalog's cache, then replicates to every secondary
/// with ReplicateAfterBackup. A secondary that fails never fails the backup, which is committed on the primary.
/// </summary>
public sealed class BackupSource : IUseCase<BackupSourceRequest, BackupSourceResult>, IAdmitsJobs<BackupSourceRequest>
{
    private readonly Workspace _workspace;
    private readonly SourceHandlers _handlers;
    private readonly RepositoryOpener _opener;
    private readonly Runs _runs;
    private readonly CatalogCache _cache;
    private readonly Replicator _replicator;
    private readonly CallContext _call;
    private readonly MaintenanceGate _maintenance;
    private readonly OperationLocks _locks;
    private readonly TenantQuotas _quotas;

    public BackupSource(Workspace workspace, SourceHandlers handlers, RepositoryOpener opener, Runs runs, CatalogCache cache, Replicator replicator, CallContext call, MaintenanceGate maintenance, OperationLocks locks, TenantQuotas quotas)
    {
        _quotas = quotas;
        _maintenance = maintenance;
        _locks = locks;
        _workspace = workspace;
        _handlers = handlers;
        _opener = opener;
        _runs = runs;
        _cache = cache;
        _replicator = replicator;
        _call = call;
    }

    public async Task<BackupSourceResult> ExecuteAsync(BackupSourceRequest request, CancellationToken cancellationToken)
    {
        var outcome = await RunOnPrimaryAsync(request.Source, request.Type, null, cancellationToken);
        var (report, error) = await _replicator.AfterBackupAsync(cancellationToken);
        return new BackupSourceResult(BackupView.From(outcome.Manifest), outcome.Problems, report, error) { Warnings = outcome.Warnings.Count > 0 ? outcome.Warnings : null };
    }

    /// <summary>Refuses at once a backup of a source in maintenance or busy with another operation.</summary>
    public async Task AdmitAsync(BackupSourceRequest request, CancellationToken cancellationToken)
    {
        // Bad input is not checked here: the job fails with it, as it always has.
        await _maintenance.EnsureOpenAsync(request.Source, $"backup of '{request.Source}'", cancellationToken);
        if (request.Source is not null && _workspace.Options.Sources.ContainsKey(request.Source))
        {
            _locks.EnsureFree(request.Source);
        }
    }

    /// <summary>Backs up to the primary only (a stack replicates once, after its record), under the source's operation lock.</summary>
    internal async Task<BackupOutcome> RunOnPrimaryAsync(string sourceName, string? type, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken)
    {
        if (type is not (null or "full" or "incr"))
        {
            throw new LifeboatException(ErrorCode.Usage, $"«type» '{type}' is not a backup type", "use full or incr (or leave it out: incr when there is a backup to build on)");
        }

        await _maintenance.EnsureOpenAsync(sourceName, $"backup of '{sourceName}'", cancellationToken);
        // An unknown source fails inside the run record, as it always has; it has no lock to take.
        using var held = _workspace.Options.Sources.ContainsKey(sourceName) ? _locks.Hold(sourceName, "backup") : null;
        return await _runs.RecordAsync(
            new RunInfo(RunOperations.Backup, type ?? Catalog.JobKinds.Backup, sourceName),
            async () =>
            {
                var source = _workspace.GetSource(sourceName);
                var handler = _handlers.For(source);
                await handler.CheckBeforeBackupAsync(sourceName, source, cancellationToken);
                await using var repository = await _opener.OpenAsync(cancellationToken);
                // A tenant's stored-bytes quota is checked before anything is written (docs/tenants.md).
                await _quotas.EnsureStoredAsync(() => SpaceCheck.EstimateAsync(repository, sourceName, source, handler, cancellationToken), $"backup of '{sourceName}'", cancellationToken);
                var estimate = await SpaceCheck.EnsureAsync(repository, sourceName, source, handler, cancellationToken);
                BackupOutcome outcome;
                try
                {
                    outcome = await handler.BackupAsync(sourceName, source, repository, new BackupRequest { Type = type, Writer = _workspace.WriterOptions, Tags = tags }, Progress(), cancellationToken);
                }
                catch (Lifeboat.Targets.TargetException ex) when (ex.Kind == Lifeboat.Targets.TargetErrorKind.NoSpace)
                {
                    throw SpaceCheck.NoSpaceDuringBackup(ex, repository, Configuration.TargetOptions.PrimaryName, sourceName, estimate);
                }

                await _cache.AddAsync(outcome.Manifest, cancellationToken);
                return outcome;
            },
            o => new RunFigures(o.Manifest.Stats.BytesRead, o.Manifest.Stats.StoredBytes, o.Manifest.Id, o.Problems.Count > 0 ? System.Text.Json.JsonSerializer.Serialize(o.Problems, LifeboatJson.Default.IReadOnlyListString) : null),
            cancellationToken);
    }

    private IProgress<BackupProgress>? Progress()
        => _call.Relay<BackupProgress>(p => new ProgressUpdate("backup", $"{p.Files} files, {ByteSize.Format(p.NewBytes)} new", p.BytesRead, Files: p.Files));
}
