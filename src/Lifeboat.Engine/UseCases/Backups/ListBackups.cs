using Lifeboat.Engine.Application;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.UseCases.Restores;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Source">Only backups of this source.</param>
public sealed record ListBackupsRequest(string? Source = null);

/// <summary>The recoverable window of a cluster source, per timeline.</summary>
public sealed record RecoverableWindow(string Source, IReadOnlyList<TimelineWindowView> Timelines);

/// <summary>A manifest that could not be read.</summary>
public sealed record DamagedBackup(string Id, string Error);

/// <param name="Repository">Where the backups are (redacted).</param>
/// <param name="Damaged">Manifests that could not be read (the command exits 3 when there are any).</param>
public sealed record ListBackupsResult(string Repository, IReadOnlyList<BackupView> Backups, IReadOnlyList<RecoverableWindow> Recoverable, IReadOnlyList<DamagedBackup> Damaged);

/// <summary>`list`: the backups in the repository (from its manifests, the source of truth) and each cluster's recoverable window.</summary>
public sealed class ListBackups : IUseCase<ListBackupsRequest, ListBackupsResult>
{
    private readonly RepositoryOpener _opener;

    public ListBackups(RepositoryOpener opener) => _opener = opener;

    public async Task<ListBackupsResult> ExecuteAsync(ListBackupsRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var (manifests, damaged) = await repository.LoadAllManifestsAsync(cancellationToken);
        var shown = manifests.Where(m => request.Source is null || m.Source == request.Source).ToList();
        var windows = await RecoveryWindows.ComputeAsync(repository, shown, cancellationToken);
        return new ListBackupsResult(
            repository.DisplayName,
            shown.Select(BackupView.From).ToList(),
            windows.Select(w => new RecoverableWindow(w.Source, TimelineWindowView.From(w.Timelines))).ToList(),
            damaged.Select(d => new DamagedBackup(d.Id, d.Error)).ToList());
    }
}
