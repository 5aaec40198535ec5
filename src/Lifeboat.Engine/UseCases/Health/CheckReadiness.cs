using Lifeboat.Core;
using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Health;

public sealed record CheckReadinessRequest;

/// <summary>One dependency of readiness: reachable, or why not (never a secret: messages are redacted).</summary>
public sealed record ReadinessCheck(string Name, bool Ok, string Detail);

public sealed record ReadinessReport(bool Ready, IReadOnlyList<ReadinessCheck> Checks);

/// <summary>
/// `GET /readyz`: whether this workspace can serve — its configuration loads, its catalog opens, its repository opens
/// with the configured key. Failures are findings (the report says which and why), not errors.
/// </summary>
public sealed class CheckReadiness : IUseCase<CheckReadinessRequest, ReadinessReport>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly RepositoryOpener _opener;

    public CheckReadiness(Workspace workspace, CatalogAccess catalog, RepositoryOpener opener)
    {
        _workspace = workspace;
        _catalog = catalog;
        _opener = opener;
    }

    public async Task<ReadinessReport> ExecuteAsync(CheckReadinessRequest request, CancellationToken cancellationToken)
    {
        var checks = new List<ReadinessCheck>();
        try
        {
            _ = _workspace.Options;
            checks.Add(new ReadinessCheck("configuration", true, _workspace.Config.Path));
        }
        catch (LifeboatException ex)
        {
            checks.Add(new ReadinessCheck("configuration", false, Redact.ConnectionString(ex.Message)));
            return new ReadinessReport(false, checks);
        }

        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            checks.Add(new ReadinessCheck("catalog", true, catalog.Display));
        }
        catch (LifeboatException ex)
        {
            checks.Add(new ReadinessCheck("catalog", false, Redact.ConnectionString(ex.Message)));
        }

        try
        {
            await using var repository = await _opener.OpenAsync(cancellationToken);
            checks.Add(new ReadinessCheck("repository", true, Redact.Url(repository.DisplayName)));
        }
        catch (Exception ex) when (ex is LifeboatException or IOException)
        {
            checks.Add(new ReadinessCheck("repository", false, Redact.ConnectionString(ex.Message)));
        }

        return new ReadinessReport(checks.All(c => c.Ok), checks);
    }
}
