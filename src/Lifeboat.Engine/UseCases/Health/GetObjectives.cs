using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Health;

/// <param name="Source">Only this source.</param>
public sealed record GetObjectivesRequest(string? Source = null);

/// <summary>A drill that missed an objective.</summary>
/// <param name="Objective">rto or rpo.</param>
public sealed record ObjectiveViolation(string Drill, DateTimeOffset At, string Objective, double MeasuredSeconds, double? ObjectiveSeconds);

/// <summary>
/// A source's recovery objectives against what was measured. RPO: the objective (Sources:NAME:Rpo; a cluster without
/// one: 5 min) against the current RPO, the age of the newest recoverable point (<see cref="RecoveryFacts.NewestRecoverablePointAsync"/>).
/// RTO: the objective (Sources:NAME:Rto) against the RTO the latest drill measured. A null objective or measurement
/// cannot be violated.
/// </summary>
/// <param name="RpoObjectiveDefault">The RPO objective is the cluster default (none is configured).</param>
/// <param name="Violated">Either objective is violated now.</param>
/// <param name="RecentViolations">The objectives the recent drills (the last 20) missed, newest first.</param>
public sealed record SourceObjectives(
    string Source,
    string Kind,
    double? RpoObjectiveSeconds,
    bool RpoObjectiveDefault,
    double? RpoSeconds,
    DateTimeOffset? NewestRecoverablePoint,
    bool RpoViolated,
    double? RtoObjectiveSeconds,
    double? RtoSeconds,
    string? RtoDrill,
    DateTimeOffset? RtoMeasuredAt,
    bool RtoViolated,
    bool Violated,
    IReadOnlyList<ObjectiveViolation> RecentViolations);

/// <param name="Warnings">What could not be read (the catalog: no drill figures).</param>
public sealed record ObjectivesReport(DateTimeOffset At, IReadOnlyList<SourceObjectives> Sources, IReadOnlyList<string> Warnings);

/// <summary><c>GET /api/v1/objectives</c>: per source, the RPO and RTO objectives, what was measured, and whether they are met.</summary>
public sealed class GetObjectives : IUseCase<GetObjectivesRequest, ObjectivesReport>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public GetObjectives(Workspace workspace, RepositoryOpener opener, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _opener = opener;
        _catalog = catalog;
        _time = time;
    }

    public async Task<ObjectivesReport> ExecuteAsync(GetObjectivesRequest request, CancellationToken cancellationToken)
    {
        if (request.Source is { } only)
        {
            _workspace.GetSource(only);
        }

        var now = _time.GetUtcNow();
        var warnings = new List<string>();
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var (manifests, _) = await repository.LoadAllManifestsAsync(cancellationToken);
        LifeboatCatalog? catalog = null;
        try
        {
            catalog = await _catalog.OpenAsync(cancellationToken);
        }
        catch (LifeboatException ex)
        {
            warnings.Add(ex.Message);
        }

        var result = new List<SourceObjectives>();
        foreach (var (name, source) in _workspace.Options.Sources.Where(s => request.Source is null || s.Key == request.Source).OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var own = manifests.Where(m => m.Source == name).ToList();
            var point = await RecoveryFacts.NewestRecoverablePointAsync(repository, name, source, own, cancellationToken);
            var rpoObjective = source.Rpo ?? (source is ClusterSourceOptions ? RecoveryFacts.DefaultClusterRpo : null);
            double? rpo = point is { } p ? Math.Max(0, (now - p).TotalSeconds) : null;
            var rpoViolated = rpoObjective is { } ro && (rpo is null || rpo > ro.TotalSeconds);

            var drills = catalog is null ? null : await RecoveryFacts.DrillStatusAsync(catalog, name, cancellationToken);
            var measured = drills?.LatestMeasured;
            double? rtoObjective = source.Rto?.TotalSeconds ?? (measured?.RtoObjectiveMs is { } om ? om / 1000.0 : null);
            double? rto = measured?.RtoMs is { } ms ? ms / 1000.0 : null;
            var rtoViolated = rto is { } r && rtoObjective is { } o && r > o;
            result.Add(new SourceObjectives(
                name, source.Kind, rpoObjective?.TotalSeconds, source.Rpo is null && rpoObjective is not null, rpo, point, rpoViolated,
                rtoObjective, rto, measured?.Id, measured?.Finished, rtoViolated, rpoViolated || rtoViolated,
                drills is null ? [] : Violations(drills.Recent)));
        }

        return new ObjectivesReport(now, result, warnings);
    }

    private static List<ObjectiveViolation> Violations(IEnumerable<DrillRecord> drills)
    {
        var violations = new List<ObjectiveViolation>();
        foreach (var d in drills)
        {
            if (d.RtoViolated && d.RtoMs is { } rto)
            {
                violations.Add(new ObjectiveViolation(d.Id, d.Finished, "rto", rto / 1000.0, d.RtoObjectiveMs / 1000.0));
            }

            if (d.RpoViolated && d.RpoMs is { } rpo)
            {
                violations.Add(new ObjectiveViolation(d.Id, d.Finished, "rpo", rpo / 1000.0, d.RpoObjectiveMs / 1000.0));
            }
        }

        return violations;
    }
}
