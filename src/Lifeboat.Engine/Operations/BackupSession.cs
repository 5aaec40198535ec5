using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Repository.Locks;
using Lifeboat.Repository.Trees;
using Lifeboat.Repository.Writing;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Operations;

/// <summary>What a kind of backup says about the backup it commits (<see cref="BackupSession.CommitAsync(ManifestDraft, CancellationToken)"/>).</summary>
/// <param name="Parent">The backup this one is incremental to; null for a full backup.</param>
/// <param name="UnchangedFiles">Files taken from the parent unread; null: the session's count.</param>
public sealed record ManifestDraft(string Source, string Kind, string? Parent, long BytesRead, IReadOnlyList<string>? Paths, System.Text.Json.Nodes.JsonObject? Details, Dictionary<string, string>? Tags, long? UnchangedFiles = null);

/// <summary>
/// What every kind of backup shares: a shared lock, the index, a writer, and a tree whose entries are added in order
/// as their chunk lists complete; <c>CommitAsync</c> writes the manifest last.
/// </summary>
public sealed class BackupSession : IAsyncDisposable
{
    private readonly Channel<PendingEntry> _entries = Channel.CreateBounded<PendingEntry>(new BoundedChannelOptions(4096) { SingleReader = true, SingleWriter = true });
    private readonly Task<List<ChunkId>> _treeTask;
    private readonly RepositoryLock _lock;

    private BackupSession(Repo repository, RepositoryLock repositoryLock, ChunkIndex index, RepositoryWriter writer, string backupId, DateTimeOffset started)
    {
        Repository = repository;
        _lock = repositoryLock;
        Index = index;
        Writer = writer;
        BackupId = backupId;
        Started = started;
        Tree = new TreeBuilder(writer, repository.TreeChunker);
        _treeTask = Task.Run(BuildTreeAsync, CancellationToken.None);
    }

    public Repo Repository { get; }

    public ChunkIndex Index { get; }

    public RepositoryWriter Writer { get; }

    public TreeBuilder Tree { get; }

    public string BackupId { get; }

    public DateTimeOffset Started { get; }

    public long Files { get; private set; }

    public long Directories { get; private set; }

    public long Bytes { get; private set; }

    public static async Task<BackupSession> StartAsync(Repo repository, WriterOptions writerOptions, CancellationToken cancellationToken)
    {
        var started = repository.Time.GetUtcNow();
        var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "backup", cancellationToken);
        try
        {
            var index = await repository.LoadIndexAsync(cancellationToken);
            var writer = new RepositoryWriter(repository, index, writerOptions, cancellationToken);
            return new BackupSession(repository, repositoryLock, index, writer, Core.BackupId.New(started), started);
        }
        catch
        {
            await repositoryLock.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds an entry to the tree; its chunks (when <paramref name="chunks"/> is given) are filled in when they are stored.
    /// Entries must be added in <see cref="TreeOrder"/>.
    /// </summary>
    public ValueTask AddAsync(TreeEntry entry, Task<ChunkId[]>? chunks, CancellationToken cancellationToken)
    {
        switch (entry.Type)
        {
            case EntryType.File:
                Files++;
                Bytes += entry.Size;
                break;
            case EntryType.Directory:
                Directories++;
                break;
        }

        return _entries.Writer.WriteAsync(new PendingEntry(entry, chunks), cancellationToken);
    }

    /// <summary>Stores the rest, then writes the manifest (the commit point) and returns it.</summary>
    /// <summary>
    /// Commits the manifest <paramref name="draft"/> describes; the session fills in what every kind shares: the id,
    /// the start and finish times, the host, the tree and the statistics (full without a parent, else incremental).
    /// </summary>
    public Task<Manifest> CommitAsync(ManifestDraft draft, CancellationToken cancellationToken) => CommitAsync(
        (tree, stats) => new Manifest
        {
            Id = BackupId,
            Source = draft.Source,
            Kind = draft.Kind,
            Type = draft.Parent is null ? "full" : "incr",
            Parent = draft.Parent,
            Started = Started,
            Finished = Repository.Time.GetUtcNow(),
            Host = Environment.MachineName,
            Tree = tree,
            Stats = stats with { BytesRead = draft.BytesRead, UnchangedFiles = draft.UnchangedFiles ?? stats.UnchangedFiles },
            Paths = draft.Paths?.ToList(),
            Details = draft.Details,
            Tags = draft.Tags,
        },
        cancellationToken);

    public async Task<Manifest> CommitAsync(Func<List<string>, BackupStats, Manifest> createManifest, CancellationToken cancellationToken)
    {
        _entries.Writer.TryComplete();
        var tree = await _treeTask.WaitAsync(cancellationToken);
        var result = await Writer.CompleteAsync(cancellationToken);
        var stats = new BackupStats
        {
            Files = Files,
            Dirs = Directories,
            Bytes = Bytes,
            Chunks = result.Chunks,
            NewChunks = result.NewChunks,
            NewBytes = result.NewBytes,
            StoredBytes = result.StoredBytes,
            TreeChunks = tree.Count,
        };
        // The manifest is returned exactly as stored (its stats cannot count the manifest itself), so that what the
        // catalog caches equals what a rebuild from the repository finds.
        var manifest = createManifest(tree.Select(id => id.ToString()).ToList(), stats);
        await Repository.SaveManifestAsync(manifest, cancellationToken);
        Repository.InvalidateIndex();
        return manifest;
    }

    public async ValueTask DisposeAsync()
    {
        _entries.Writer.TryComplete();
        try
        {
            await _treeTask;
        }
        catch (Exception)
        {
            // the failure was reported by the operation that caused it
        }

        await Writer.DisposeAsync();
        await _lock.DisposeAsync();
    }

    private async Task<List<ChunkId>> BuildTreeAsync()
    {
        await foreach (var pending in _entries.Reader.ReadAllAsync())
        {
            if (pending.Chunks is not null)
            {
                var ids = await pending.Chunks;
                pending.Entry.Chunks = ids.Length == 0 ? null : ids.ToList();
            }

            Tree.Add(pending.Entry);
        }

        return Tree.Finish();
    }

    private sealed record PendingEntry(TreeEntry Entry, Task<ChunkId[]>? Chunks);
}
