using Lifeboat.Engine.Application;

namespace Lifeboat.Engine.UseCases.Backups;

/// <param name="Reason">Why (shown by list); null for unpin.</param>
public sealed record PinBackupRequest(string Backup, bool Pin = true, string? Reason = null);

public sealed record PinBackupResult(string Backup, bool Pinned, string? Reason);

/// <summary>`pin` / `unpin`: keep a backup whatever the retention policy says, or let retention decide again.</summary>
public sealed class PinBackup : IUseCase<PinBackupRequest, PinBackupResult>
{
    private readonly RepositoryOpener _opener;
    private readonly Events _events;

    public PinBackup(RepositoryOpener opener, Events events)
    {
        _opener = opener;
        _events = events;
    }

    public async Task<PinBackupResult> ExecuteAsync(PinBackupRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        if (request.Pin)
        {
            await repository.PinAsync(request.Backup, request.Reason, cancellationToken);
        }
        else
        {
            await repository.LoadManifestAsync(request.Backup, cancellationToken);
            await repository.UnpinAsync(request.Backup, cancellationToken);
        }

        await _events.PublishAsync(new RepositoryChanged(request.Pin ? "backup_pinned" : "backup_unpinned", repository.DisplayName, request.Backup, request.Reason), cancellationToken);
        return new PinBackupResult(request.Backup, request.Pin, request.Reason);
    }
}
