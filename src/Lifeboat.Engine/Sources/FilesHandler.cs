using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Restores;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>A directory tree (uploads, documents, logs): content-defined chunks, unchanged files not read again.</summary>
public sealed class FilesHandler : SourceHandler<FilesSourceOptions>
{
    private readonly TreeRestores _trees;

    public FilesHandler(TreeRestores trees) => _trees = trees;

    public override string Kind => SourceKinds.Files;

    public override int StackOrder => 2;

    protected override SourceSummary Summarize(string name, FilesSourceOptions options)
    {
        var filters = (options.Include.Count > 0 ? " include " + string.Join(' ', options.Include) : "") + (options.Exclude.Count > 0 ? " exclude " + string.Join(' ', options.Exclude) : "");
        return new SourceSummary(name, Kind, options.Path, null, null, options.Include, options.Exclude, (options.Path ?? "") + filters);
    }

    protected override Task CheckBeforeBackupAsync(string name, FilesSourceOptions options, CancellationToken cancellationToken)
    {
        FilesBackup.CheckSourcePath(name, options);
        return Task.CompletedTask;
    }

    protected override Task<BackupOutcome> BackupAsync(string name, FilesSourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
        => new FilesBackup(repository, name, options).RunAsync(request, progress, cancellationToken);

    protected override Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, FilesSourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken)
        => Task.FromResult(EstimateFiles(options.Path is null ? [] : [options.Path], previous));

    protected override Task CheckAsync(string name, FilesSourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken)
    {
        results.Add(FilesBackupChecks.Check(name, options));
        return Task.CompletedTask;
    }

    protected override Task<RestoreSourceResult> RestoreAsync(string name, FilesSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.Into is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{name}' is a files source: «into» restores databases", "use «into» with a database source (or a cluster source with «database»)");
        }

        TreeRestores.RefuseClusterAndDatabaseFields(name, Kind, request);
        return _trees.RestoreTreeAsync(name, request, cancellationToken);
    }
}
