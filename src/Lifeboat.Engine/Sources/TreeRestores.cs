using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Files;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Locks;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Sources;

/// <summary>
/// What the restores of file trees share (files sources, config sets, and a dump's files): the fields that do not
/// apply to them, finding the backup, the repository opened for reading under a shared lock.
/// </summary>
public sealed class TreeRestores
{
    private readonly Workspace _workspace;
    private readonly RepositoryOpener _opener;
    private readonly IApprovalGate _gate;
    private readonly TimeProvider _time;
    private readonly CallContext _call;

    public TreeRestores(Workspace workspace, RepositoryOpener opener, IApprovalGate gate, TimeProvider time, CallContext call)
    {
        _workspace = workspace;
        _opener = opener;
        _gate = gate;
        _time = time;
        _call = call;
    }

    public Workspace Workspace => _workspace;

    public RepositoryOpener Opener => _opener;

    public TimeProvider Time => _time;

    /// <summary>Refuses the fields that restore clusters or databases, naming the source's kind.</summary>
    public static void RefuseClusterAndDatabaseFields(string name, string kind, RestoreSourceRequest request)
    {
        if (request.Database is not null || request.Table.Count > 0 || request.SchemaOnly || request.Clean || request.NoOwner || request.Conn is not null)
        {
            throw new LifeboatException(ErrorCode.Usage, "«database», «table», «schemaOnly», «clean», «noOwner» and «conn» restore into a database", "add «into» NEW_DB (the database to create)");
        }

        if (request.RecoveryTarget().Kind != Postgres.Recovery.RecoveryTargetKind.Latest || request.TargetTimeline is not null || request.Delta || request.Force)
        {
            throw new LifeboatException(ErrorCode.Usage, $"source '{name}' is a {kind} source: recovery targets, «delta» and «force» apply to clusters", "restore a file tree with «to» DIR [«backup» ID] [«path» GLOB]... [«overwrite»]");
        }
    }

    /// <summary>Opens the repository for reading (from «from», else with fallback), takes a shared lock and finds the backup.</summary>
    public async Task<(Repo Repository, RepositoryLock Lock, Manifest Manifest)> OpenAsync(string name, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        var repository = await _opener.OpenForReadingAsync(request.From, cancellationToken);
        try
        {
            var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "restore", cancellationToken);
            try
            {
                return (repository, repositoryLock, await Backups.FindAsync(repository, name, request.Backup, cancellationToken));
            }
            catch
            {
                await repositoryLock.DisposeAsync();
                throw;
            }
        }
        catch
        {
            await repository.DisposeAsync();
            throw;
        }
    }

    /// <summary>Restores a file tree (a files source, or a dump's files) into «to», or over its original place with «overwrite».</summary>
    public async Task<RestoreSourceResult> RestoreTreeAsync(string name, RestoreSourceRequest request, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var globs = request.Path.Select(p => new GlobPattern(p)).ToList();
        var (repository, repositoryLock, manifest) = await OpenAsync(name, request, cancellationToken);
        await using (repository)
        await using (repositoryLock)
        {
            string destination;
            if (request.To is not null)
            {
                destination = _workspace.ResolvePath(request.To);
            }
            else if (request.Overwrite && manifest.Paths is [var original])
            {
                destination = original;
            }
            else
            {
                throw new LifeboatException(ErrorCode.Usage, "restore needs «to» DIR", $"restore into a new directory with «to» DIR; to restore over the original place ({manifest.Paths?.FirstOrDefault() ?? "unknown"}) pass «overwrite»");
            }

            if (request.Overwrite)
            {
                await AuthorizeOverwriteAsync(name, manifest, destination, cancellationToken);
            }

            var index = await repository.LoadIndexAsync(cancellationToken);
            var result = await new FilesRestore(repository, index).RunAsync(
                manifest,
                new FilesRestoreRequest { Destination = destination, Paths = globs, Overwrite = request.Overwrite, Workers = _workspace.WriterOptions.Workers },
                Progress(),
                cancellationToken);
            return FilesRestored.From(manifest, destination, result, Seconds(started));
        }
    }

    /// <summary>Restoring over existing files is destructive: the approval gate decides.</summary>
    public Task AuthorizeOverwriteAsync(string name, Manifest manifest, string destination, CancellationToken cancellationToken)
        => _gate.AuthorizeAsync(
            new DestructiveOperation(DestructiveOperations.RestoreOverwrite, name, $"restore backup {manifest.Id} of '{name}' over the files in {destination}", new Dictionary<string, string?> { ["backup"] = manifest.Id, ["to"] = destination, ["overwrite"] = "true" }),
            cancellationToken);

    /// <summary>The call's progress, in the restorers' terms.</summary>
    public IProgress<RestoreProgress>? Progress() => _call.Progress is null ? null : new RestoreProgressAdapter(_call);

    public double Seconds(long started) => Math.Round(_time.GetElapsedTime(started).TotalSeconds, 3);

    private sealed class RestoreProgressAdapter(CallContext call) : IProgress<RestoreProgress>
    {
        public void Report(RestoreProgress value) => call.Report(new ProgressUpdate("restore", $"{value.Files} files", value.Bytes, Files: value.Files));
    }
}
