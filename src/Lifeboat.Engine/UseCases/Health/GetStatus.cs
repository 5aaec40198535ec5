using System.Text.Json.Serialization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Scheduling;
using Lifeboat.Postgres.Server;
using Lifeboat.Repository.Format;
using Lifeboat.Targets;
using Lifeboat.Targets.Local;

namespace Lifeboat.Engine.UseCases.Health;

public enum HealthState
{
    [JsonStringEnumMemberName("healthy")]
    Healthy = 0,
    [JsonStringEnumMemberName("warning")]
    Warning = 1,
    [JsonStringEnumMemberName("critical")]
    Critical = 2,
}

/// <summary>One health finding; <see cref="Source"/> is empty for the repository's own checks.</summary>
public sealed record HealthCheck([property: JsonIgnore] string Source, [property: JsonPropertyName("check")] string Name, HealthState State, string Detail)
{
    [JsonPropertyName("source")]
    [JsonPropertyOrder(-1)]
    public string? SourceName => Source.Length == 0 ? null : Source;
}

/// <param name="Source">Only this source.</param>
/// <param name="MaxAge">A status computed at most this long ago will do (the server's Server:StatusCacheSeconds); zero: compute it now.</param>
public sealed record GetStatusRequest(string? Source = null, TimeSpan MaxAge = default);

/// <summary>The health of every source (`status`, the server's /api/v1/status and the dashboard's colours).</summary>
public sealed record HealthReport([property: JsonPropertyOrder(2)] IReadOnlyList<HealthCheck> Checks, [property: JsonPropertyOrder(1)] DateTimeOffset At)
{
    /// <summary>The worst state of any check: what `status` exits with (0, 1, 2).</summary>
    [JsonPropertyName("state")]
    [JsonPropertyOrder(0)]
    public HealthState Overall => Checks.Count == 0 ? HealthState.Healthy : Checks.Max(c => c.State);

    /// <summary>
    /// The worst state of the checks of <paramref name="sources"/> (healthy when they have none): one source's colour,
    /// or a stack's over its sources. The repository's own checks (source empty) are not any source's.
    /// </summary>
    public HealthState StateOf(params IEnumerable<string> sources)
    {
        var names = sources.ToHashSet(StringComparer.Ordinal);
        return Checks.Where(c => c.Source.Length > 0 && names.Contains(c.Source)).Select(c => c.State).DefaultIfEmpty(HealthState.Healthy).Max();
    }

    /// <summary>Per source: what the drills proved (empty without a catalog).</summary>
    [JsonPropertyOrder(3)]
    public IReadOnlyList<DrillStatus> Drills { get; init; } = [];
}

/// <summary>
/// What drills proved about a source: the last point proven restorable (by the newest drill whose restore and checks
/// passed), the latest measured RTO, and the newest drill's result.
/// </summary>
public sealed record DrillStatus(string Source, [property: JsonIgnore] DrillRecord? LastProven, [property: JsonIgnore] DrillRecord? LatestMeasured, [property: JsonIgnore] DrillRecord? Latest)
{
    public DateTimeOffset? LastProvenPoint => LastProven?.PointReached;

    public string? LastProvenDrill => LastProven?.Id;

    public string? LastProvenBackup => LastProven?.BackupId;

    public DateTimeOffset? LastProvenAt => LastProven?.Finished;

    public double? LatestRtoSeconds => LatestMeasured?.RtoMs is { } ms ? ms / 1000.0 : null;

    public double? RtoObjectiveSeconds => LatestMeasured?.RtoObjectiveMs is { } o ? o / 1000.0 : null;

    public bool? RtoViolated => LatestMeasured?.RtoViolated;

    public DateTimeOffset? RtoMeasuredAt => LatestMeasured?.Finished;

    public string? LatestDrill => Latest?.Id;

    public string? LatestResult => Latest?.Result;

    public string? LatestReport => Latest?.ReportHtmlPath;

    /// <summary>The recent drills these were taken from, newest first (cancelled ones left out).</summary>
    [JsonIgnore]
    public IReadOnlyList<DrillRecord> Recent { get; init; } = [];
}

/// <summary>
/// `lifeboat status`: per source, the age of the last successful backup, the success rate and consecutive failures of
/// recent runs, WAL archiving (failures, lag, the current RPO against the objective), size anomalies; the repository's
/// free space. One overall state: healthy, warning or critical.
/// </summary>
public sealed class GetStatus : IUseCase<GetStatusRequest, HealthReport>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly MaintenanceGate _maintenance;
    private readonly StatusCache _cache;

    public GetStatus(Workspace workspace, RepositoryOpener opener, CatalogAccess catalog, TimeProvider time, MaintenanceGate maintenance, StatusCache cache)
    {
        _cache = cache;
        _maintenance = maintenance;
        _workspace = workspace;
        _opener = opener;
        _catalog = catalog;
        _time = time;
    }

    public Task<HealthReport> ExecuteAsync(GetStatusRequest request, CancellationToken cancellationToken)
    {
        return request.MaxAge <= TimeSpan.Zero
            ? ComputeAsync(request, cancellationToken)
            : _cache.GetAsync(_workspace, request, request.MaxAge, cancellationToken);
    }

    private async Task<HealthReport> ComputeAsync(GetStatusRequest request, CancellationToken cancellationToken)
    {
        var onlySource = request.Source;
        if (onlySource is not null)
        {
            _workspace.GetSource(onlySource);
        }

        var options = _workspace.Options.Health;
        var now = _time.GetUtcNow();
        var checks = new List<HealthCheck>();
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        LifeboatCatalog? catalog = null;
        try
        {
            catalog = await _catalog.OpenAsync(cancellationToken);
        }
        catch (LifeboatException ex)
        {
            checks.Add(new HealthCheck("", "catalog", HealthState.Warning, ex.Message));
        }

        CheckSpace(repository.Target, options, checks);
        if (catalog is not null)
        {
            // Maintenance is a warning: intended, but nothing is being protected meanwhile.
            foreach (var window in (await _maintenance.ActiveAsync(cancellationToken)).Where(w => w.Source is null || onlySource is null || w.Source == onlySource))
            {
                checks.Add(new HealthCheck(window.Source ?? "", "maintenance", HealthState.Warning, window.Describe() + (window.StartedBy.Length > 0 ? $", entered by {window.StartedBy}" : "")));
            }
        }

        var drills = new List<DrillStatus>();
        var schedules = Schedule.All(_workspace.Options);
        foreach (var (name, source) in _workspace.Options.Sources.Where(s => onlySource is null || s.Key == onlySource).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var own = manifests.Where(m => m.Source == name).OrderBy(m => m.Finished).ToList();
            CheckAge(name, own, schedules.FirstOrDefault(s => s.Source == name && s.Kind is JobKinds.Full or JobKinds.Incr or JobKinds.Backup or JobKinds.Files), options, now, checks);
            if (catalog is not null)
            {
                await CheckRunsAsync(name, catalog, options, checks, cancellationToken);
                var drillSchedule = schedules.FirstOrDefault(s => s.Source == name && s.Kind == JobKinds.Drill);
                drills.Add(await CheckDrillsAsync(name, catalog, now, DrillAge(drillSchedule, options, now), checks, cancellationToken));
            }

            CheckSize(name, own, options, checks);
            if (source is ClusterSourceOptions cluster)
            {
                await CheckArchivingAsync(repository, name, cluster, own, now, checks, cancellationToken);
            }
        }

        return new HealthReport(checks, now) { Drills = drills };
    }

    /// <summary>
    /// The last point proven restorable and the latest measured RTO. Never drilled: healthy, with the advice to drill. The
    /// newest drill failed: critical (the newest backup may not restore). The latest RTO missed its objective: warning.
    /// </summary>
    private static async Task<DrillStatus> CheckDrillsAsync(string name, LifeboatCatalog catalog, DateTimeOffset now, (TimeSpan Limit, string Why) drillAge, List<HealthCheck> checks, CancellationToken cancellationToken)
    {
        var status = await RecoveryFacts.DrillStatusAsync(catalog, name, cancellationToken);
        var (proven, measured, latest) = (status.LastProven, status.LatestMeasured, status.Latest);
        var provenText = proven is null
            ? "no point has been proven restorable by a drill yet"
            : $"proven restorable to {Time(proven.PointReached)} (backup {proven.BackupId}) by drill {proven.Id}, {Hours(now - proven.Finished)} ago";
        if (latest is null)
        {
            checks.Add(new HealthCheck(name, "restorable point", HealthState.Healthy, $"never drilled: run `lifeboat drill --source {name}` (or schedule a drill) to prove the backups restore"));
        }
        else if (!latest.Restorable)
        {
            checks.Add(new HealthCheck(name, "restorable point", HealthState.Critical, $"the last drill ({latest.Id}, {Hours(now - latest.Finished)} ago) failed: {latest.Summary}; {provenText}"));
        }
        else
        {
            checks.Add(new HealthCheck(name, "restorable point", HealthState.Healthy, provenText));
        }

        if (latest is not null && drillAge.Limit > TimeSpan.Zero)
        {
            // A drill overdue: what it proved is getting old (the backups since are not proven).
            var age = now - latest.Finished;
            checks.Add(new HealthCheck(name, "drill age", age > drillAge.Limit ? HealthState.Warning : HealthState.Healthy,
                $"the last drill ({latest.Id}) ran {Hours(age)} ago (warning over {Hours(drillAge.Limit)}{drillAge.Why})"));
        }

        if (measured is not null)
        {
            var objective = measured.RtoObjectiveMs is { } o ? $"objective {Seconds(o)}" : "no objective set";
            checks.Add(new HealthCheck(name, "measured RTO", measured.RtoViolated ? HealthState.Warning : HealthState.Healthy,
                $"{Seconds(measured.RtoMs!.Value)} by drill {measured.Id}, {Hours(now - measured.Finished)} ago ({objective}{(measured.RtoViolated ? ": VIOLATED" : "")})"));
        }

        return status;
    }

    private static string Seconds(long ms) => ms < 120_000 ? $"{ms / 1000.0:0.0} s" : $"{ms / 60_000.0:0.0} min";

    private static string Time(DateTimeOffset? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : "an unknown time";

    /// <summary>How old the last drill may be: from a drill schedule, its interval + 1 h; else Health:DrillAgeWarning.</summary>
    private static (TimeSpan Limit, string Why) DrillAge(Schedule? schedule, HealthOptions options, DateTimeOffset now)
        => schedule?.Interval(now) is { } interval ? (interval + TimeSpan.FromHours(1), $", from schedule {schedule.Name}") : (options.DrillAgeWarning, "");

    private static void CheckAge(string name, List<Manifest> own, Schedule? schedule, HealthOptions options, DateTimeOffset now, List<HealthCheck> checks)
    {
        var (warning, critical) = (options.BackupAgeWarning, options.BackupAgeCritical);
        var derived = "";
        if (schedule?.Interval(now) is { } interval)
        {
            (warning, critical) = (interval + TimeSpan.FromHours(1), interval * 1.5);
            derived = $" (thresholds from schedule {schedule.Name})";
        }

        if (own.Count == 0)
        {
            checks.Add(new HealthCheck(name, "last backup", HealthState.Critical, "no backup yet"));
            return;
        }

        var age = now - own[^1].Finished;
        var state = age > critical ? HealthState.Critical : age > warning ? HealthState.Warning : HealthState.Healthy;
        checks.Add(new HealthCheck(name, "last backup", state, $"{own[^1].Id}, {Hours(age)} ago (warning over {Hours(warning)}, critical over {Hours(critical)}){derived}"));
    }

    private static async Task CheckRunsAsync(string name, LifeboatCatalog catalog, HealthOptions options, List<HealthCheck> checks, CancellationToken cancellationToken)
    {
        var runs = (await catalog.RunsAsync(name, null, options.SuccessRateRuns, cancellationToken)).Where(r => r.Status != RunStatus.Running && JobKinds.Backups.Contains(r.Kind)).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        var rate = (double)runs.Count(r => r.Status == RunStatus.Succeeded) / runs.Count;
        var rateState = rate < options.SuccessRateCritical ? HealthState.Critical : rate < options.SuccessRateWarning ? HealthState.Warning : HealthState.Healthy;
        checks.Add(new HealthCheck(name, "success rate", rateState, $"{rate:P0} of the last {runs.Count} run(s) succeeded"));
        var consecutive = runs.TakeWhile(r => r.Status != RunStatus.Succeeded).Count();
        var failState = consecutive >= options.ConsecutiveFailuresCritical ? HealthState.Critical : consecutive > 0 ? HealthState.Warning : HealthState.Healthy;
        checks.Add(new HealthCheck(name, "consecutive failures", failState, consecutive == 0 ? "the last run succeeded" : $"{consecutive} in a row, the last: {runs[0].Error}"));
    }

    private static void CheckSize(string name, List<Manifest> own, HealthOptions options, List<HealthCheck> checks)
    {
        if (own.Count < 4)
        {
            return;
        }

        var previous = own.SkipLast(1).TakeLast(10).Select(m => (double)m.Stats.Bytes).Order().ToList();
        var median = previous[previous.Count / 2];
        var last = own[^1].Stats.Bytes;
        if (median <= 0)
        {
            return;
        }

        var ratio = last / median;
        var anomaly = ratio > options.SizeAnomalyFactor || ratio < 1 / options.SizeAnomalyFactor;
        checks.Add(new HealthCheck(name, "backup size", anomaly ? HealthState.Warning : HealthState.Healthy, $"the last backup holds {ByteSize.Format(last)}, {ratio:0.00}× the median of the {previous.Count} before it"));
    }

    private static async Task CheckArchivingAsync(Lifeboat.Repository.Repository repository, string name, ClusterSourceOptions source, List<Manifest> own, DateTimeOffset now, List<HealthCheck> checks, CancellationToken cancellationToken)
    {
        var archive = RecoveryFacts.Archive(repository, name, source, own);
        var lastArchived = await RecoveryFacts.NewestArchivedWalAsync(archive, cancellationToken);
        try
        {
            await using var server = await PgServer.ConnectAsync(source.Postgres(), cancellationToken);
            var stats = await server.GetArchiverStatsAsync(cancellationToken);
            var failing = stats.FailedCount > 0 && (stats.LastArchivedTime is null || stats.LastFailedTime > stats.LastArchivedTime);
            var current = await server.ScalarAsync<string>("select pg_walfile_name(pg_current_wal_lsn())", cancellationToken);
            var lag = stats.LastArchivedWal is { } a && WalFileName.TryParse(a, archive.SegmentSize, out var last) && WalFileName.TryParse(current, archive.SegmentSize, out var cur)
                ? (long)cur!.SegmentNumber - (long)last!.SegmentNumber - 1
                : -1;
            checks.Add(new HealthCheck(name, "WAL archiving", failing ? HealthState.Critical : lag > 8 ? HealthState.Warning : HealthState.Healthy,
                failing
                    ? $"archive_command is failing: {stats.FailedCount} failure(s), the last for {stats.LastFailedWal} at {stats.LastFailedTime:u}"
                    : $"last archived {stats.LastArchivedWal ?? "nothing yet"}; {(lag >= 0 ? $"{lag} complete segment(s) behind the current one ({current})" : "lag unknown")}"));
        }
        catch (LifeboatException ex)
        {
            checks.Add(new HealthCheck(name, "WAL archiving", HealthState.Critical, ex.Message));
        }

        if (lastArchived is { } at)
        {
            var rpo = now - at;
            var objective = source.Rpo ?? RecoveryFacts.DefaultClusterRpo;
            var state = rpo > objective * 2 ? HealthState.Critical : rpo > objective ? HealthState.Warning : HealthState.Healthy;
            checks.Add(new HealthCheck(name, "RPO", state, $"the newest archived WAL is {Hours(rpo)} old (objective {(source.Rpo is null ? "5 min (default)" : Hours(objective))})"));
        }
        else
        {
            checks.Add(new HealthCheck(name, "RPO", HealthState.Critical, "no WAL is archived"));
        }
    }

    private static void CheckSpace(ITarget target, HealthOptions options, List<HealthCheck> checks)
    {
        if (target.Innermost() is not LocalTarget local)
        {
            return;
        }

        var drive = new DriveInfo(local.Root);
        var share = (double)drive.AvailableFreeSpace / drive.TotalSize;
        var state = share < options.FreeSpaceCritical ? HealthState.Critical : share < options.FreeSpaceWarning ? HealthState.Warning : HealthState.Healthy;
        checks.Add(new HealthCheck("", "repository space", state, $"{ByteSize.Format(drive.AvailableFreeSpace)} free of {ByteSize.Format(drive.TotalSize)} ({share:P0})"));
    }

    private static string Hours(TimeSpan t) => t.TotalHours >= 1 ? $"{t.TotalHours:0.#} h" : t.TotalMinutes >= 1 ? $"{t.TotalMinutes:0} min" : $"{t.TotalSeconds:0} s";
}
