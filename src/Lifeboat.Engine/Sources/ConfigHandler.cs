using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Restores;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>A config set: files holding secrets, backed up under their absolute paths into an encrypted repository only.</summary>
public sealed class ConfigHandler : SourceHandler<ConfigSourceOptions>
{
    private readonly TreeRestores _trees;

    public ConfigHandler(TreeRestores trees) => _trees = trees;

    public override string Kind => SourceKinds.Config;

    public override int StackOrder => 3;

    protected override SourceSummary Summarize(string name, ConfigSourceOptions options)
        => new(name, Kind, null, options.Paths, null, [], [], string.Join(", ", options.Paths));

    protected override Task CheckBeforeBackupAsync(string name, ConfigSourceOptions options, CancellationToken cancellationToken)
    {
        ConfigBackup.Check(name, options, null);
        return Task.CompletedTask;
    }

    protected override Task<BackupOutcome> BackupAsync(string name, ConfigSourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
        => ConfigBackup.RunAsync(repository, name, options, request, progress, cancellationToken);

    protected override Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, ConfigSourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken)
        => Task.FromResult(EstimateFiles(options.Paths, previous));

    protected override Task CheckAsync(string name, ConfigSourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken)
    {
        results.Add(FilesBackupChecks.CheckConfig(name, options, repository));
        return Task.CompletedTask;
    }

    /// <summary>Into a private review directory by default; back in place only with «overwrite» and no «to».</summary>
    protected override async Task<RestoreSourceResult> RestoreAsync(string name, ConfigSourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        if (request.Into is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{name}' is a config source: «into» restores databases", "use «into» with a database source (or a cluster source with «database»)");
        }

        TreeRestores.RefuseClusterAndDatabaseFields(name, Kind, request);
        var started = _trees.Time.GetTimestamp();
        var globs = request.Path.Select(ConfigRestore.Glob).ToList();
        var (repository, repositoryLock, manifest) = await _trees.OpenAsync(name, request, cancellationToken);
        await using (repository)
        await using (repositoryLock)
        {
            string? destination = request.To is not null ? _trees.Workspace.ResolvePath(request.To)
                : request.Overwrite ? null
                : _trees.Workspace.ResolvePath(ConfigRestore.ReviewDirectoryName(manifest));
            if (request.Overwrite)
            {
                await _trees.AuthorizeOverwriteAsync(name, manifest, destination ?? "their original places", cancellationToken);
            }

            var index = await repository.LoadIndexAsync(cancellationToken);
            var result = await ConfigRestore.RunAsync(repository, index, manifest, destination, globs, request.Overwrite, _trees.Workspace.WriterOptions.Workers, _trees.Progress(), cancellationToken);
            return FilesRestored.From(manifest, destination ?? "/", result, _trees.Seconds(started));
        }
    }
}
