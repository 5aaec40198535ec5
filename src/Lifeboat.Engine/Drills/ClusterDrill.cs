// Over 400 lines: a cluster drill is one sequence of named steps (choose the point, check space, restore, recover,
// wait for consistency, compare row counts, amcheck, smoke queries, measure RTO/RPO, clean up) sharing one report.
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Platform;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Recovery;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Tools;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Locks;
using Npgsql;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// A drill of a cluster source, as a list of steps: plan (backup, target, where the row counts can be compared), check
/// the free space, restore into a private scratch directory (tablespaces inside it, archiving off), start the copy at low
/// priority on its own Unix socket, let it recover — first to the WAL position of the counts recorded at backup time
/// (paused there, counted, then resumed to the end of the archive) — and check it: consistency and connections, the end
/// of the archive reached, exact row counts, pg_amcheck on every database, the smoke queries. The scratch server is
/// stopped and the directory removed whatever happens.
/// </summary>
internal sealed class ClusterDrill
{
    /// <summary>XLOG long page header: the insert position right after a segment switch is this far into the new segment.</summary>
    private const int LongPageHeaderSize = 40;

    private readonly DrillEnvironment _context;
    private readonly string _name;
    private readonly ClusterSourceOptions _source;
    private readonly DrillPlan _plan;
    private readonly DrillReport _report;
    private readonly IProgress<string>? _progress;
    private readonly DrillOptions _options;
    private TimeSpan _checks;

    public ClusterDrill(DrillEnvironment context, string name, ClusterSourceOptions source, DrillPlan plan, DrillReport report, IProgress<string>? progress)
    {
        _context = context;
        _name = name;
        _source = source;
        _plan = plan;
        _report = report;
        _progress = progress;
        _options = context.Workspace.Options.Drill;
    }

    private TimeProvider Time => _context.Time;

    private enum CountMode
    {
        /// <summary>No counts recorded (or counting failed at backup time).</summary>
        None,
        /// <summary>Recover to the counted LSN first (paused there), count, then go on.</summary>
        Pause,
        /// <summary>The final point is the counted state: compare exactly there.</summary>
        Final,
        /// <summary>Another point: counts are reported, not judged.</summary>
        Informational,
    }

    private sealed record Target(PhysicalBackup Backup, RecoverableSpan? Span, RecoveryTarget Final, RecoveryTarget? Pause, CountMode Counts, string Description, DateTimeOffset? PointTime, string? PointLsn, bool ToEndOfArchive);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var repository = await _context.Repositories.OpenAsync(cancellationToken);
        // Prune and forget take an exclusive lock: the backup and its WAL stay while the drill needs them.
        await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "drill", cancellationToken);
        _report.Repository = Redact.Url(repository.DisplayName);
        _report.RepositoryId = repository.Config.Id;
        var target = await PlanAsync(repository, cancellationToken);
        var backup = target.Backup;
        _report.BackupId = backup.Manifest.Id;
        _report.BackupServerVersion = backup.Info.ServerVersionText;
        _report.Backup = Describe(backup);
        _report.TargetDescription = target.Description;
        _report.PointReached = target.PointTime;
        _report.PointLsn = target.PointLsn;

        var pg = _context.Workspace.PgBinaries;
        var binDir = pg.Server(backup.Info.ServerVersion / 10000);
        if (binDir is null)
        {
            _report.Add(new DrillCheck("server programs", DrillCheckStatus.Failed, $"PostgreSQL {backup.Info.ServerVersion / 10000}'s server programs are not installed ({PgBinaries.DebianRoot}/{backup.Info.ServerVersion / 10000}/bin): a copy of this cluster cannot be started here", Data: null));
            return;
        }

        var baseDirectory = ScratchSpace.BaseDirectory(_options.ScratchDirectory);
        if (!CheckSpace(backup, baseDirectory))
        {
            return;
        }

        foreach (var stale in await ScratchSpace.SweepStaleAsync(baseDirectory, pg, Time))
        {
            _report.Note("removed the scratch copy of an interrupted drill: " + stale);
            _progress?.Report("removed the scratch copy of an interrupted drill: " + stale);
        }

        var scratch = ScratchSpace.Create(baseDirectory, _report.Id, PostgresCluster.DefaultOsUser);
        _report.ScratchDirectory = scratch.Root;
        PostgresCluster? server = null;
        try
        {
            if (!await RestoreAsync(repository, scratch, target, cancellationToken))
            {
                return;
            }

            server = PostgresCluster.Attach(scratch.Combine("pgdata"), binDir, socketOnly: true);
            _report.ScratchPort = server.Port;
            await RecoverAndCheckAsync(server, scratch, target, cancellationToken);
        }
        finally
        {
            _progress?.Report("removing the scratch copy");
            var (clean, detail) = await scratch.CleanUpAsync(server, Time);
            _report.Add(new DrillCheck("cleanup", clean ? DrillCheckStatus.Passed : DrillCheckStatus.Failed, detail));
        }
    }

    private async Task<Target> PlanAsync(Repo repository, CancellationToken cancellationToken)
    {
        var systemId = _source.SystemIdValue();
        var backups = await ClusterRestore.BackupsAsync(repository, _name, systemId, cancellationToken);
        if (_plan.BackupId is { } wanted && backups.All(b => b.Manifest.Id != wanted))
        {
            throw await Backups.NotPhysicalAsync(repository, _name, wanted, cancellationToken);
        }

        if (backups.Count == 0)
        {
            throw new LifeboatException(ErrorCode.NotFound, $"source '{_name}' has no physical backup in {repository.DisplayName}: there is nothing to drill", $"run `lifeboat backup --source {_name}` first");
        }

        var archive = new WalArchive(repository, _name, systemId, backups[^1].Info.WalSegmentSize);
        var spans = await RecoveryWindow.ComputeAsync(archive, backups, cancellationToken);
        var time = _plan.TargetTime;
        if (_plan.RandomPoint)
        {
            var window = RecoveryWindow.ByTimeline(spans).LastOrDefault(w => w.Latest is not null)
                ?? throw new LifeboatException(ErrorCode.Damage, $"source '{_name}' has no recoverable window (the WAL its backups need is not archived)", "check archiving with `lifeboat check`");
            var length = window.Latest!.Value - window.Earliest;
            var offset = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, (long)(length.Ticks * DrillPlan.RandomFraction())));
            time = window.Earliest + (offset < length ? offset : length);
            _report.Note($"random point {DrillReport.Time(time.Value)} drawn in the window of timeline {window.Timeline}: {DrillReport.Time(window.Earliest)} .. {DrillReport.Time(window.Latest.Value)}");
        }

        PhysicalBackup backup;
        if (_plan.BackupId is { } id)
        {
            backup = backups.FirstOrDefault(b => b.Manifest.Id == id)
                ?? throw new LifeboatException(ErrorCode.InvalidInput, $"backup {id} is not a physical backup of source '{_name}'", $"`lifeboat list --source {_name}` shows its backups");
        }
        else if (time is { } t)
        {
            backup = backups.LastOrDefault(b => b.Info.StopTime < t)
                ?? throw new LifeboatException(ErrorCode.InvalidInput, $"the target time {DrillReport.Time(t)} is before the earliest recoverable point of source '{_name}' ({DrillReport.Time(backups[0].Info.StopTime)}, the end of backup {backups[0].Manifest.Id})", $"`lifeboat list --source {_name}` shows the recoverable window");
        }
        else
        {
            backup = backups[^1];
        }

        // The span on the latest timeline (recovery_target_timeline = latest follows it).
        var span = spans.Where(s => s.BackupId == backup.Manifest.Id && s.LatestTime is not null).MaxBy(s => s.Timeline);
        var counts = backup.Info.RowCounts;
        var countLsn = counts?.Position;
        var mode = CountModeFor(counts, countLsn, span, backup.Info.WalSegmentSize);
        if (time is { } at)
        {
            if (span?.LatestTime is { } reachable && at >= reachable)
            {
                throw new LifeboatException(
                    ErrorCode.InvalidInput,
                    $"the target time {DrillReport.Time(at)} cannot be reached: the last point recovery can reach is {reachable.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture)}, the last transaction commit or abort in the archived WAL of source '{_name}' (recovery stops at a target only on a later commit or abort); nothing was drilled",
                    $"choose an earlier time (`lifeboat list --source {_name}` shows the recoverable window), or leave the target out to drill the end of the archived WAL");
            }

            var final = new RecoveryTarget(RecoveryTargetKind.Time, TimeParsing.ToPostgres(at));
            return new Target(backup, span, final, null, mode == CountMode.None ? CountMode.None : CountMode.Informational, $"time {DrillReport.Time(at)}", at, null, false);
        }

        if (_plan.BackupId is not null)
        {
            return mode switch
            {
                CountMode.Pause => new Target(backup, span, new RecoveryTarget(RecoveryTargetKind.Lsn, countLsn.ToString(), Inclusive: false), null, CountMode.Final,
                    $"the point where its row counts were taken (LSN {countLsn}, {DrillReport.Time(counts!.Time)})", counts.Time, countLsn.ToString(), false),
                CountMode.Final => new Target(backup, span, RecoveryTarget.Latest, null, CountMode.Final, "the end of the archived WAL (where its row counts were taken)", span?.LatestTime, null, true),
                _ => new Target(backup, span, new RecoveryTarget(RecoveryTargetKind.Immediate), null, mode == CountMode.None ? CountMode.None : CountMode.Informational,
                    "the end of the backup (immediate)", backup.Info.StopTime, backup.Info.StopLsn, false),
            };
        }

        var pause = mode == CountMode.Pause ? new RecoveryTarget(RecoveryTargetKind.Lsn, countLsn.ToString(), Inclusive: false) : null;
        return new Target(backup, span, RecoveryTarget.Latest, pause, mode, "the end of the archived WAL", span?.LatestTime, null, true);
    }

    /// <summary>Where the recorded counts can be compared exactly (docs/operations/drills.md, "Row counts").</summary>
    private CountMode CountModeFor(RowCountSnapshot? counts, Lsn? countLsn, RecoverableSpan? span, long segmentSize)
    {
        if (counts is null)
        {
            _report.Note("the backup recorded no row counts (taken before drills existed, or Sources:" + _name + ":Drill:RowCountTables is 0)");
            return CountMode.None;
        }

        if (countLsn is not { } lsn)
        {
            _report.Note("row counting failed during the backup: " + counts.Error);
            return CountMode.None;
        }

        if (span is null)
        {
            return CountMode.Informational;
        }

        if (lsn < span.LatestLsn)
        {
            return CountMode.Pause;
        }

        // Counted right after the backup's segment switch and nothing archived since: the end of the archive is that state.
        if (lsn.Segment(segmentSize) == span.LatestLsn.Segment(segmentSize) && lsn.Value - span.LatestLsn.Value <= LongPageHeaderSize)
        {
            return CountMode.Final;
        }

        _report.Note($"the WAL position of the row counts (LSN {lsn}) is not archived yet (the archive ends at {span.LatestLsn}): the counts are reported for information");
        return CountMode.Informational;
    }

    private bool CheckSpace(PhysicalBackup backup, string baseDirectory)
    {
        var needed = backup.Manifest.Stats.Bytes + _options.WalMarginBytes;
        long free;
        try
        {
            free = ScratchSpace.FreeBytes(baseDirectory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _report.Add(new DrillCheck("free space", DrillCheckStatus.Failed, $"cannot use the scratch directory {baseDirectory}: {ex.Message} (Drill:ScratchDirectory)"));
            return false;
        }

        var data = new DrillCheckData(NeededBytes: needed, FreeBytes: free, Directory: baseDirectory);
        if (free < needed)
        {
            _report.Add(new DrillCheck("free space", DrillCheckStatus.Failed,
                $"refused: the scratch copy needs {ByteSize.Format(needed)} (the backup's {ByteSize.Format(backup.Manifest.Stats.Bytes)} plus a WAL margin of {ByteSize.Format(_options.WalMarginBytes)}), but only {ByteSize.Format(free)} is free in {baseDirectory}; nothing was written. Free space there or point Drill:ScratchDirectory at a larger file system", Data: data));
            return false;
        }

        _report.Add(new DrillCheck("free space", DrillCheckStatus.Passed, $"{ByteSize.Format(free)} free in {baseDirectory}, {ByteSize.Format(needed)} needed (the backup plus a WAL margin of {ByteSize.Format(_options.WalMarginBytes)})", Data: data));
        return true;
    }

    private async Task<bool> RestoreAsync(Repo repository, ScratchSpace scratch, Target target, CancellationToken cancellationToken)
    {
        _progress?.Report($"restoring backup {target.Backup.Manifest.Id} into {scratch.Root}");
        var started = Time.GetTimestamp();
        ClusterRestoreResult result;
        try
        {
            result = await new ClusterRestore(repository, _name, _source).RunAsync(
                new ClusterRestoreRequest
                {
                    Destination = scratch.Combine("pgdata"),
                    BackupId = target.Backup.Manifest.Id,
                    Target = target.Pause ?? target.Final,
                    TargetAction = target.Pause is null ? "promote" : "pause",
                    ArchiveOff = true,
                    TablespaceMap = target.Backup.Info.Tablespaces.ToDictionary(t => t.Oid, t => scratch.Combine("tablespaces", t.Oid.ToString(CultureInfo.InvariantCulture))),
                    RestoreCommand = RestoreCommand(),
                    Workers = _context.Workspace.WriterOptions.Workers,
                },
                null,
                cancellationToken);
        }
        catch (DamageException ex)
        {
            _report.DamagedObjects = ex.DamagedObjects;
            _report.AffectedBackups = ex.AffectedBackups;
            _report.Add(new DrillCheck("restore", DrillCheckStatus.Failed, $"{ex.Message}\ndamaged: {string.Join(", ", ex.DamagedObjects)}" + (ex.Hint is null ? "" : "\nhint: " + ex.Hint), Time.GetElapsedTime(started)));
            return false;
        }

        _report.RestoreTime = Time.GetElapsedTime(started);
        var files = result.Files;
        _report.Add(new DrillCheck("restore", DrillCheckStatus.Passed,
            $"backup {result.Backup.Id}: {files.Files} files, {ByteSize.Format(files.Bytes)}, every chunk verified against its id; {result.Tablespaces.Count} tablespace(s) mapped inside the scratch directory; archiving off in the copy",
            _report.RestoreTime, new DrillCheckData(Files: files.Files, Bytes: files.Bytes, Tablespaces: result.Tablespaces.Count)));
        return true;
    }

    private async Task RecoverAndCheckAsync(PostgresCluster server, ScratchSpace scratch, Target target, CancellationToken cancellationToken)
    {
        var settings = PrepareServer(server, scratch);
        var (wrapper, priority) = LowPriority.ServerWrapper(_options.LowPriority);
        _report.Priority = priority;
        var start = new StartOptions { Settings = settings, Wrapper = wrapper, Timeout = _plan.Timeout };
        var major = target.Backup.Info.ServerVersion / 10000;
        var recoveryStarted = Time.GetTimestamp();
        var counts = target.Backup.Info.RowCounts;
        var final = target.Final;

        _progress?.Report($"starting the scratch server (port {server.Port}, Unix socket only) and recovering to {target.Pause?.ToString() ?? final.ToString()}");
        if (target.Pause is { } pause)
        {
            var pausedSql = major >= 14 ? "select pg_get_wal_replay_pause_state() = 'paused'" : "select pg_is_wal_replay_paused()";
            if (!await RecoverAsync(server, start, pause, pausedSql, $"the counted point (LSN {pause.Value})", cancellationToken))
            {
                return;
            }

            await CompareCountsAsync(server, counts!, exact: true, $"at the WAL position of the counts (LSN {pause.Value})", cancellationToken);
            _progress?.Report("resuming recovery to the end of the archive");
            await server.StopAsync(cancellationToken, "fast");
            RewriteRecovery(server.DataDirectory, final);
        }

        if (!await RecoverAsync(server, start, final, "select not pg_is_in_recovery()", $"promotion at {final}", cancellationToken))
        {
            return;
        }

        _report.RecoveryTime = Time.GetElapsedTime(recoveryStarted) - _checks;
        var (timeline, switchPoint) = LatestHistory(server.DataDirectory);
        _report.Timeline = timeline;
        _report.PostgresVersion = "PostgreSQL " + await ScalarAsync<string>(server, "postgres", "select current_setting('server_version')", cancellationToken);
        if (target.ToEndOfArchive)
        {
            _report.PointLsn = switchPoint?.ToString();
        }

        _report.Add(new DrillCheck("recovery", DrillCheckStatus.Passed,
            $"the copy reached consistency, recovered to {final} and was promoted{(timeline is null ? "" : $" to timeline {timeline}")}{(switchPoint is null ? "" : $" at LSN {switchPoint}")}; it accepts connections ({_report.PostgresVersion})",
            _report.RecoveryTime));
        if (target.ToEndOfArchive && target.Span is { } span)
        {
            CheckEndOfArchive(span, switchPoint, target.Backup.Info.WalSegmentSize);
        }

        if (counts?.Position is not null && target.Counts is CountMode.Final or CountMode.Informational)
        {
            await CompareCountsAsync(server, counts, target.Counts == CountMode.Final, target.Counts == CountMode.Final ? "at the point reached, which is the counted state" : "at a different point than the counted one", cancellationToken);
        }

        await AmcheckAsync(server, cancellationToken);
        await SmokeQueriesAsync(server, cancellationToken);
        _report.ChecksTime = _checks;

        // RPO of the point reached: the latest recoverable time (or the target) against the start of the drill.
        if (target.ToEndOfArchive && (target.Span?.ArchivedUntil ?? target.Span?.LatestTime) is { } latest)
        {
            _report.Rpo = Max(_report.Started - latest, TimeSpan.Zero);
            _report.RpoJudged = true;
            _report.RpoBasis = $"the latest recoverable time {DrillReport.Time(latest)} (when the last WAL segment without a gap was archived) against the start of the drill {DrillReport.Time(_report.Started)}";
        }
        else if (target.PointTime is { } point)
        {
            _report.Rpo = Max(_report.Started - point, TimeSpan.Zero);
            _report.RpoBasis = $"the point reached {DrillReport.Time(point)} against the start of the drill (for information: the drill did not recover to the end of the archive)";
        }
    }

    /// <summary>The scratch server's own settings: private socket, trust on that socket only, modest memory, no synchronous standbys.</summary>
    private Dictionary<string, string> PrepareServer(PostgresCluster server, ScratchSpace scratch)
    {
        var pgdata = server.DataDirectory;
        var owner = Unix.Lstat(pgdata);
        void Own(string path)
        {
            if (Unix.IsRoot && owner is { } o)
            {
                Unix.Lchown(path, o.Uid, o.Gid);
            }
        }

        var conf = Path.Combine(pgdata, "postgresql.conf");
        if (!File.Exists(conf))
        {
            File.WriteAllText(conf, "# Written by lifeboat drill: the backup holds no postgresql.conf (it lives outside PGDATA); PostgreSQL's defaults apply.\n");
            Own(conf);
            _report.Note("the data directory holds no postgresql.conf (Debian keeps it in /etc/postgresql): the scratch copy ran with PostgreSQL's defaults and postgresql.auto.conf");
        }

        var hba = scratch.Combine("pg_hba.conf");
        File.WriteAllText(hba, "# lifeboat drill: the scratch server accepts connections on its private Unix socket only.\nlocal all all trust\n");
        Own(hba);
        return new Dictionary<string, string>
        {
            ["hba_file"] = hba,
            ["shared_buffers"] = _options.SharedBuffers,
            ["synchronous_standby_names"] = "",
            ["hot_standby"] = "on",
            ["archive_mode"] = "off",
            ["primary_conninfo"] = "",
            ["logging_collector"] = "off",
            ["lc_messages"] = "C",
            ["ssl"] = "off",
            ["cluster_name"] = "lifeboat-drill",
        };
    }

    /// <summary>
    /// Starts the copy and waits until <paramref name="doneSql"/> holds; false (with the recovery check failed) when the
    /// server does not come up or stops first.
    /// </summary>
    private async Task<bool> RecoverAsync(PostgresCluster server, StartOptions start, RecoveryTarget target, string doneSql, string what, CancellationToken cancellationToken)
    {
        var failure = await StartAndWaitAsync(server, start, doneSql, what, cancellationToken);
        // A target that recovery cannot reach fails the drill: the copy would not hold the state at that point.
        if (failure is not null && failure.Contains("recovery ended before configured recovery target was reached", StringComparison.Ordinal))
        {
            failure = $"recovery ended before it reached the target {target}: the archived WAL holds no commit or abort after it, so the copy cannot show the state at that point; " + failure;
        }

        if (failure is not null)
        {
            _report.Add(new DrillCheck("recovery", DrillCheckStatus.Failed, failure));
            return false;
        }

        return true;
    }

    /// <summary>Null when the server started and <paramref name="doneSql"/> became true; else what went wrong, with the server log.</summary>
    private async Task<string?> StartAndWaitAsync(PostgresCluster server, StartOptions start, string doneSql, string what, CancellationToken cancellationToken)
    {
        try
        {
            await server.StartAsync(start, cancellationToken);
        }
        catch (LifeboatException ex) when (ex.Code == ErrorCode.PostgresFailed)
        {
            return "the scratch server did not start or did not reach consistency: " + ex.Message;
        }

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (await ScalarAsync<bool>(server, "postgres", doneSql, cancellationToken))
                {
                    return null;
                }
            }
            catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
            {
                // Starting up, shutting down, or gone: the postmaster decides.
            }

            if (server.PostmasterPid() is null)
            {
                return $"the scratch server stopped before {what}:\n{server.LogTail(25)}";
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), Time, cancellationToken);
        }
    }

    private void CheckEndOfArchive(RecoverableSpan span, Lsn? switchPoint, long segmentSize)
    {
        // Replay must get into the last archived segment; it ends somewhere inside it (or at its end after a switch).
        var lastSegmentStart = new Lsn(span.LatestLsn.Value - (ulong)segmentSize);
        if (switchPoint is { } end && end >= lastSegmentStart)
        {
            _report.Add(new DrillCheck("end of archive", DrillCheckStatus.Passed, $"WAL replay reached LSN {end}: every archived segment up to the end of the archive ({span.LatestLsn}, timeline {span.Timeline}) was fetched and replayed"));
        }
        else
        {
            _report.Add(new DrillCheck("end of archive", DrillCheckStatus.Failed, $"WAL replay stopped at {switchPoint?.ToString() ?? "an unknown position"}, but the archive holds WAL up to {span.LatestLsn}: a segment could not be fetched or read (see the scratch server log in the report)"));
        }
    }

    private async Task CompareCountsAsync(PostgresCluster server, RowCountSnapshot counts, bool exact, string where, CancellationToken cancellationToken)
    {
        _progress?.Report($"counting the rows of {counts.Tables.Count} table(s) {where}");
        var started = Time.GetTimestamp();
        try
        {
            await using var connection = new NpgsqlConnection(server.ConnectionString(counts.Database));
            await connection.OpenAsync(cancellationToken);
            var found = await RowCounter.CountAsync(connection, counts.Tables.Select(t => (t.Schema, t.Table)), cancellationToken);
            var comparisons = counts.Tables.Select(t => new RowCountComparison(t.Schema, t.Table, t.Rows, found[(t.Schema, t.Table)])).ToList();
            _report.RowCounts.Clear();
            _report.RowCounts.AddRange(comparisons);
            _report.RowCountsExact = exact;
            var differ = comparisons.Where(c => !c.Match).ToList();
            var list = string.Join("; ", differ.Take(10).Select(c => $"{c.Schema}.{c.Table}: recorded {c.Recorded}, restored {(c.Restored is { } n ? n.ToString(CultureInfo.InvariantCulture) : "missing")}")) + (differ.Count > 10 ? "; …" : "");
            var recorded = $"counted during backup {_report.BackupId} at LSN {counts.Lsn} ({DrillReport.Time(counts.Time)}){(counts.Limit is { } n ? $", the {n} largest tables" : "")}{(counts.Skipped > 0 ? $"; {counts.Skipped} table(s) the backup's role could not read were not counted" : "")}";
            DrillCheck check;
            if (!exact)
            {
                check = new DrillCheck("row counts", DrillCheckStatus.Info, $"for information, {where}: {comparisons.Count - differ.Count} of {comparisons.Count} table(s) in database '{counts.Database}' hold the rows {recorded}{(differ.Count > 0 ? "; differ: " + list : "")}", Time.GetElapsedTime(started));
            }
            else if (differ.Count == 0)
            {
                check = new DrillCheck("row counts", DrillCheckStatus.Passed, $"all {comparisons.Count} table(s) in database '{counts.Database}' hold exactly the rows {recorded}", Time.GetElapsedTime(started));
            }
            else
            {
                check = new DrillCheck("row counts", DrillCheckStatus.Failed,
                    $"{differ.Count} of {comparisons.Count} table(s) in database '{counts.Database}' differ from the rows {recorded}: {list}\n"
                    + "A transaction that committed between the count snapshot and the reading of its WAL position (the source being written at that very moment) explains a difference of a few rows in a busy table; anything else is lost or extra data (docs/operations/drills.md, \"Row counts\").",
                    Time.GetElapsedTime(started));
            }

            _report.Add(check);
        }
        catch (NpgsqlException ex) when (!cancellationToken.IsCancellationRequested)
        {
            _report.Add(new DrillCheck("row counts", exact ? DrillCheckStatus.Failed : DrillCheckStatus.Info, $"could not count the rows in database '{counts.Database}' {where}: {ex.Message}", Time.GetElapsedTime(started)));
        }

        _checks += Time.GetElapsedTime(started);
    }

    private async Task AmcheckAsync(PostgresCluster server, CancellationToken cancellationToken)
        => _checks += await DrillChecks.AmcheckAsync(server, _report, _progress, _plan.Timeout, Time, cancellationToken);

    private async Task SmokeQueriesAsync(PostgresCluster server, CancellationToken cancellationToken)
        => _checks += await DrillChecks.SmokeQueriesAsync(server, _source.Drill.SmokeQueries, _source.Drill.RowCountDatabase ?? ConnectionDatabase(), _report, Time, cancellationToken);

    private string ConnectionDatabase() => _source.Postgres().Database;

    private static Task<T> ScalarAsync<T>(PostgresCluster server, string database, string sql, CancellationToken cancellationToken)
        => DrillChecks.ScalarAsync<T>(server, database, sql, cancellationToken);

    /// <summary>Recovery settings for the next start (resuming after the counted point); owned by the data directory's owner.</summary>
    private void RewriteRecovery(string pgdata, RecoveryTarget target)
    {
        RecoveryConfig.Write(pgdata, RestoreCommand(), target, null, "promote", archiveOff: true, Time.GetUtcNow());
        if (Unix.IsRoot && Unix.Lstat(pgdata) is { } owner)
        {
            foreach (var name in new[] { RecoveryConfig.AutoConf, "recovery.signal" })
            {
                Unix.Lchown(Path.Combine(pgdata, name), owner.Uid, owner.Gid);
            }
        }
    }

    /// <summary>The newest timeline history in pg_wal: the timeline the copy was promoted to and where recovery ended.</summary>
    private static (uint? Timeline, Lsn? SwitchPoint) LatestHistory(string pgdata)
    {
        try
        {
            var newest = Directory.EnumerateFiles(Path.Combine(pgdata, "pg_wal"), "*.history")
                .Select(f => (Path: f, Ok: uint.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var t), Tli: t))
                .Where(x => x.Ok)
                .MaxBy(x => x.Tli);
            if (newest.Path is null)
            {
                return (null, null);
            }

            var history = TimelineHistory.Parse(newest.Tli, File.ReadAllText(newest.Path));
            return (newest.Tli, history[^1].Begin);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return (null, null);
        }
    }

    private string RestoreCommand() => LifeboatCommand.RestoreCommand(LifeboatCommand.Self(_context.Workspace.Environment), _context.Workspace.Config.Path, _name);

    private static DrillBackup Describe(PhysicalBackup backup) => new(
        backup.Manifest.Id, backup.Manifest.Type, backup.Manifest.Started, backup.Manifest.Finished, backup.Manifest.Host,
        backup.Manifest.Stats.Bytes, backup.Manifest.Stats.StoredBytes, backup.Manifest.Stats.Files,
        SystemIdentifier: backup.Info.SystemIdentifier,
        ServerVersion: backup.Info.ServerVersionText,
        Timeline: backup.Info.Timeline,
        StartLsn: backup.Info.StartLsn,
        StopLsn: backup.Info.StopLsn,
        StopTime: backup.Info.StopTime,
        RowCounts: backup.Info.RowCounts is { } c ? new DrillBackupRowCounts(c.Database, c.Lsn, c.Error is null ? c.Time : null, c.Tables.Count, c.Error) : null);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
