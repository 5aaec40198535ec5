using System.Text.Json.Serialization;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Logical;
using Lifeboat.Postgres;

namespace Lifeboat.Engine.UseCases.Backups;

public sealed record ShowBackupRequest(string Backup);

/// <summary>One backup, with its kind's details typed for people (the JSON is the backup as `list` shows it).</summary>
public sealed record ShowBackupResult(
    [property: JsonIgnore] BackupView Backup,
    [property: JsonIgnore] ClusterBackupInfo? Cluster,
    [property: JsonIgnore] DumpDetails? Dump) : BackupView(Backup)
{
    /// <summary>How many chunks the manifest's tree is stored in (for people; the JSON has <c>stats.treeChunks</c>).</summary>
    [JsonIgnore]
    public int TreeChunkCount { get; init; }
}

/// <summary>`info BACKUP_ID`: one backup's manifest.</summary>
public sealed class ShowBackup : IUseCase<ShowBackupRequest, ShowBackupResult>
{
    private readonly RepositoryOpener _opener;

    public ShowBackup(RepositoryOpener opener) => _opener = opener;

    public async Task<ShowBackupResult> ExecuteAsync(ShowBackupRequest request, CancellationToken cancellationToken)
    {
        await using var repository = await _opener.OpenAsync(cancellationToken);
        var m = await repository.LoadManifestAsync(request.Backup, cancellationToken);
        return new ShowBackupResult(BackupView.From(m), ClusterBackupInfo.FromDetails(m.Details), DumpDetails.FromDetails(m.Details)) { TreeChunkCount = m.Tree.Count };
    }
}
