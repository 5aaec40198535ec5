using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.UseCases.Restores;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>How `source list` shows a source.</summary>
/// <param name="Path">A files source's directory, or a cluster's PGDATA.</param>
/// <param name="Paths">A config set's paths (null for other kinds).</param>
/// <param name="What">One line for people.</param>
public sealed record SourceSummary(string Name, string Kind, string? Path, IReadOnlyList<string>? Paths, string? Database, IReadOnlyList<string> Include, IReadOnlyList<string> Exclude, [property: System.Text.Json.Serialization.JsonIgnore] string What);

/// <summary>
/// Everything that differs between kinds of sources (files, cluster, database, config), behind one interface: each kind
/// is one class with its own options type. Use cases find the handler of a source with <see cref="SourceHandlers"/>.
/// </summary>
public interface ISourceHandler
{
    string Kind { get; }

    /// <summary>The position of the kind in a stack backup: databases, clusters, files, config sets.</summary>
    int StackOrder { get; }

    bool Handles(SourceOptions options);

    SourceSummary Summarize(string name, SourceOptions options);

    /// <summary>What can be checked before the repository is touched: bad input (exit 2) writes nothing.</summary>
    Task CheckBeforeBackupAsync(string name, SourceOptions options, CancellationToken cancellationToken);

    /// <summary>Backs the source up into the repository and commits the manifest last.</summary>
    Task<BackupOutcome> BackupAsync(string name, SourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken);

    /// <summary>
    /// What the next backup will add, for the free-space check (<see cref="Operations.SpaceCheck"/>), from the
    /// source's <paramref name="previous"/> backup when there is one.
    /// </summary>
    Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, SourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken);

    /// <summary>`lifeboat check`: every finding for the source (checks keep going after a failure).</summary>
    Task CheckAsync(string name, SourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken);

    Task<RestoreSourceResult> RestoreAsync(string name, SourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken);

    /// <summary>Restores into a scratch copy and checks it; the findings go into the drill's report.</summary>
    Task DrillAsync(string name, SourceOptions options, DrillEnvironment environment, DrillPlan plan, DrillReport report, IProgress<string>? progress, CancellationToken cancellationToken);
}

/// <summary>The typed base of a handler: each method gets the kind's own options type.</summary>
public abstract class SourceHandler<TOptions> : ISourceHandler
    where TOptions : SourceOptions
{
    public abstract string Kind { get; }

    public abstract int StackOrder { get; }

    public bool Handles(SourceOptions options) => options is TOptions;

    public SourceSummary Summarize(string name, SourceOptions options) => Summarize(name, (TOptions)options);

    public Task CheckBeforeBackupAsync(string name, SourceOptions options, CancellationToken cancellationToken) => CheckBeforeBackupAsync(name, (TOptions)options, cancellationToken);

    public Task<BackupOutcome> BackupAsync(string name, SourceOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken)
        => BackupAsync(name, (TOptions)options, repository, request, progress, cancellationToken);

    public Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, SourceOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken)
        => EstimateBackupAsync(name, (TOptions)options, previous, cancellationToken);

    public Task CheckAsync(string name, SourceOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken)
        => CheckAsync(name, (TOptions)options, repository, results, cancellationToken);

    public Task<RestoreSourceResult> RestoreAsync(string name, SourceOptions options, RestoreSourceRequest request, CancellationToken cancellationToken)
        => RestoreAsync(name, (TOptions)options, request, cancellationToken);

    public Task DrillAsync(string name, SourceOptions options, DrillEnvironment environment, DrillPlan plan, DrillReport report, IProgress<string>? progress, CancellationToken cancellationToken)
        => DrillAsync(name, (TOptions)options, environment, plan, report, progress, cancellationToken);

    protected abstract SourceSummary Summarize(string name, TOptions options);

    protected abstract Task CheckBeforeBackupAsync(string name, TOptions options, CancellationToken cancellationToken);

    protected abstract Task<BackupOutcome> BackupAsync(string name, TOptions options, Repo repository, BackupRequest request, IProgress<BackupProgress>? progress, CancellationToken cancellationToken);

    protected abstract Task<Operations.SpaceEstimate> EstimateBackupAsync(string name, TOptions options, Lifeboat.Repository.Format.Manifest? previous, CancellationToken cancellationToken);

    /// <summary>A file tree's or config set's estimate: the files changed since the previous backup, or all of them.</summary>
    protected static Operations.SpaceEstimate EstimateFiles(IEnumerable<string> roots, Lifeboat.Repository.Format.Manifest? previous)
    {
        var (bytes, files) = Operations.SpaceEstimate.ChangedFiles(roots, previous?.Started);
        return Operations.SpaceEstimate.HalfOf(bytes, previous is null
            ? $"its {ByteSize.Format(bytes)} on disk, for a first backup"
            : $"the {ByteSize.Format(bytes)} in {files} file(s) changed since backup {previous.Id}");
    }

    protected abstract Task CheckAsync(string name, TOptions options, Repo? repository, List<CheckResult> results, CancellationToken cancellationToken);

    protected abstract Task<RestoreSourceResult> RestoreAsync(string name, TOptions options, RestoreSourceRequest request, CancellationToken cancellationToken);

    protected virtual Task DrillAsync(string name, TOptions options, DrillEnvironment environment, DrillPlan plan, DrillReport report, IProgress<string>? progress, CancellationToken cancellationToken)
        => new FilesDrill(environment, name, options, plan, report, progress).RunAsync(cancellationToken);

    /// <summary>The bytes of the files below <paramref name="root"/> (0 when it cannot be read).</summary>
    protected static long SizeOnDisk(string root)
    {
        try
        {
            return new DirectoryInfo(root).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }).Sum(f => f.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

/// <summary>The handler of each kind of source.</summary>
public sealed class SourceHandlers
{
    private readonly IReadOnlyList<ISourceHandler> _handlers;

    public SourceHandlers(IEnumerable<ISourceHandler> handlers) => _handlers = handlers.ToList();

    public ISourceHandler For(SourceOptions options)
        => _handlers.FirstOrDefault(h => h.Handles(options)) ?? throw new InvalidOperationException($"no handler for sources of kind '{options.Kind}'");
}
