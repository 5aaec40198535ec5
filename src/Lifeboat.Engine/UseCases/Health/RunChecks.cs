using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Sources;

namespace Lifeboat.Engine.UseCases.Health;

/// <param name="Source">Check only this source.</param>
public sealed record RunChecksRequest(string? Source = null);

/// <param name="Ok">No check failed (warnings allowed): the command exits 0.</param>
public sealed record RunChecksResult(bool Ok, int Failed, int Warnings, IReadOnlyList<CheckResult> Checks);

/// <summary>
/// `check`: finds every problem that would make a backup fail or be unrestorable and says how to fix it — the
/// repository, then each source through its kind's checks. Checks keep going after a failure so that one run reports everything.
/// </summary>
public sealed class RunChecks : IUseCase<RunChecksRequest, RunChecksResult>
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly SourceHandlers _handlers;

    public RunChecks(Workspace workspace, RepositoryOpener opener, SourceHandlers handlers)
    {
        _workspace = workspace;
        _opener = opener;
        _handlers = handlers;
    }

    public async Task<RunChecksResult> ExecuteAsync(RunChecksRequest request, CancellationToken cancellationToken)
    {
        var results = new List<CheckResult>();
        Repository.Repository? repository = null;
        try
        {
            try
            {
                repository = await _opener.OpenAsync(cancellationToken);
                results.Add(new CheckResult("", "repository", CheckStatus.Ok, $"{repository.DisplayName} opens ({repository.Config.Encryption})"));
            }
            catch (LifeboatException ex)
            {
                results.Add(new CheckResult("", "repository", CheckStatus.Failed, ex.Message, ex.Hint));
            }

            PermissionChecks.Run(_workspace, repository, results);

            if (request.Source is not null)
            {
                _workspace.GetSource(request.Source);
            }

            foreach (var (name, source) in _workspace.Options.Sources.Where(s => request.Source is null || s.Key == request.Source).OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                await _handlers.For(source).CheckAsync(name, source, repository, results, cancellationToken);
            }
        }
        finally
        {
            if (repository is not null)
            {
                await repository.DisposeAsync();
            }
        }

        var failed = results.Count(r => r.Status == CheckStatus.Failed);
        return new RunChecksResult(failed == 0, failed, results.Count(r => r.Status == CheckStatus.Warning), results);
    }
}
