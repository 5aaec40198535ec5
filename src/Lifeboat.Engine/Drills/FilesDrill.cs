using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres.Tools;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// A drill of a file tree: restore a backup into a private scratch directory, then check every restored file against the
/// chunk ids recorded at backup time (<see cref="TreeVerifier"/>); the RTO is the restore and the check, the RPO the age
/// of the backup. The scratch directory is removed whatever happens.
/// </summary>
internal sealed class FilesDrill
{
    private readonly DrillEnvironment _context;
    private readonly string _name;
    private readonly DrillPlan _plan;
    private readonly DrillReport _report;
    private readonly IProgress<string>? _progress;
    private readonly SourceOptions _source;

    public FilesDrill(DrillEnvironment context, string name, SourceOptions source, DrillPlan plan, DrillReport report, IProgress<string>? progress)
    {
        _context = context;
        _name = name;
        _source = source;
        _plan = plan;
        _report = report;
        _progress = progress;
    }

    private TimeProvider Time => _context.Time;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var repository = await _context.Repositories.OpenAsync(cancellationToken);
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "drill", cancellationToken);
        _report.Repository = Redact.Url(repository.DisplayName);
        _report.RepositoryId = repository.Config.Id;
        var manifest = await ChooseAsync(repository, cancellationToken);
        _report.BackupId = manifest.Id;
        _report.Backup = new DrillBackup(
            manifest.Id, manifest.Type, manifest.Started, manifest.Finished, manifest.Host,
            manifest.Stats.Bytes, manifest.Stats.StoredBytes, manifest.Stats.Files, Paths: manifest.Paths ?? []);
        _report.PointReached = manifest.Finished;
        _report.TargetDescription = $"the file tree as backed up at {DrillReport.Time(manifest.Finished)}";

        var baseDirectory = ScratchSpace.BaseDirectory(_context.Workspace.Options.Drill.ScratchDirectory);
        var needed = manifest.Stats.Bytes + (manifest.Stats.Bytes / 20) + (1 << 20);
        if (_source is DatabaseSourceOptions)
        {
            needed += DatabaseDrill.ExtraSpace(manifest, _context.Workspace.Options.Drill);
        }

        var free = ScratchSpace.FreeBytes(baseDirectory);
        var data = new DrillCheckData(NeededBytes: needed, FreeBytes: free, Directory: baseDirectory);
        if (free < needed)
        {
            _report.Add(new DrillCheck("free space", DrillCheckStatus.Failed, $"refused: the scratch copy needs {ByteSize.Format(needed)} (the backup's {ByteSize.Format(manifest.Stats.Bytes)} plus 5 %), but only {ByteSize.Format(free)} is free in {baseDirectory}; nothing was written. Free space there or point Drill:ScratchDirectory at a larger file system", Data: data));
            return;
        }

        _report.Add(new DrillCheck("free space", DrillCheckStatus.Passed, $"{ByteSize.Format(free)} free in {baseDirectory}, {ByteSize.Format(needed)} needed", Data: data));
        foreach (var stale in await ScratchSpace.SweepStaleAsync(baseDirectory, _context.Workspace.PgBinaries, Time))
        {
            _report.Note("removed the scratch copy of an interrupted drill: " + stale);
            _progress?.Report("removed the scratch copy of an interrupted drill: " + stale);
        }

        // A database drill starts a scratch server in the directory: it must be able to enter it.
        var scratch = ScratchSpace.Create(baseDirectory, _report.Id, _source is DatabaseSourceOptions ? PostgresCluster.DefaultOsUser : null);
        _report.ScratchDirectory = scratch.Root;
        PostgresCluster? server = null;
        try
        {
            var destination = scratch.Combine("files");
            _progress?.Report($"restoring backup {manifest.Id} into {destination}");
            var index = await repository.LoadIndexAsync(cancellationToken);
            var started = Time.GetTimestamp();
            FilesRestoreResult restored;
            try
            {
                restored = await new FilesRestore(repository, index).RunAsync(manifest, new FilesRestoreRequest { Destination = destination, Workers = _context.Workspace.WriterOptions.Workers }, null, cancellationToken);
            }
            catch (DamageException ex)
            {
                _report.DamagedObjects = ex.DamagedObjects;
                _report.AffectedBackups = ex.AffectedBackups;
                _report.Add(new DrillCheck("restore", DrillCheckStatus.Failed, $"{ex.Message}\ndamaged: {string.Join(", ", ex.DamagedObjects)}" + (ex.Hint is null ? "" : "\nhint: " + ex.Hint), Time.GetElapsedTime(started)));
                return;
            }

            _report.RestoreTime = Time.GetElapsedTime(started);
            _report.RecoveryTime = TimeSpan.Zero;
            _report.Add(new DrillCheck("restore", DrillCheckStatus.Passed, $"{restored.Files} files ({ByteSize.Format(restored.Bytes)}), {restored.Directories} directories, {restored.Symlinks} symlinks; every chunk verified before it was written", _report.RestoreTime));

            _progress?.Report("checking every restored file against the chunk ids recorded at backup time");
            started = Time.GetTimestamp();
            var verification = await TreeVerifier.VerifyAsync(repository, index, manifest, destination, cancellationToken);
            _report.ChecksTime = Time.GetElapsedTime(started);
            _report.Add(verification.Clean
                ? new DrillCheck("content", DrillCheckStatus.Passed, $"all {verification.Files} files ({ByteSize.Format(verification.Bytes)}), {verification.Directories} directories and {verification.Symlinks} symlinks are there; every file's bytes re-hash to the chunk ids recorded at backup time", _report.ChecksTime)
                : new DrillCheck("content", DrillCheckStatus.Failed, $"{verification.ProblemCount} problem(s):\n{string.Join('\n', verification.Problems)}{(verification.ProblemCount > verification.Problems.Count ? "\n…" : "")}", _report.ChecksTime));

            if (_source is DatabaseSourceOptions database && verification.Clean)
            {
                server = await new DatabaseDrill(_context, database, _plan, _report, _progress).RunAsync(manifest, scratch, destination, cancellationToken);
            }

            _report.Rpo = _report.Started - manifest.Finished;
            _report.RpoJudged = _report.Requested == "latest";
            _report.RpoBasis = $"the backup finished at {DrillReport.Time(manifest.Finished)}, against the start of the drill {DrillReport.Time(_report.Started)}";
        }
        finally
        {
            _progress?.Report("removing the scratch copy");
            var (clean, detail) = await scratch.CleanUpAsync(server, Time);
            _report.Add(new DrillCheck("cleanup", clean ? DrillCheckStatus.Passed : DrillCheckStatus.Failed, detail));
        }
    }

    private async Task<Manifest> ChooseAsync(Repository.Repository repository, CancellationToken cancellationToken)
    {
        if (_plan.BackupId is { } id)
        {
            return await Backups.FindAsync(repository, _name, id, cancellationToken);
        }

        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        var own = manifests.Where(m => m.Source == _name).OrderBy(m => m.Finished).ToList();
        if (own.Count == 0)
        {
            throw new LifeboatException(ErrorCode.NotFound, $"source '{_name}' has no backup in {repository.DisplayName}: there is nothing to drill", $"run `lifeboat backup --source {_name}` first");
        }

        if (_plan.TargetTime is { } t)
        {
            return own.LastOrDefault(m => m.Finished <= t)
                ?? throw new LifeboatException(ErrorCode.InvalidInput, $"source '{_name}' has no backup that finished before {DrillReport.Time(t)} (the first finished at {DrillReport.Time(own[0].Finished)})", $"`lifeboat list --source {_name}` shows its backups");
        }

        if (_plan.RandomPoint)
        {
            var pick = own[Math.Min(own.Count - 1, (int)(DrillPlan.RandomFraction() * own.Count))];
            _report.Note($"random point: backup {pick.Id}, drawn from the {own.Count} backup(s) of '{_name}'");
            return pick;
        }

        return own[^1];
    }
}
