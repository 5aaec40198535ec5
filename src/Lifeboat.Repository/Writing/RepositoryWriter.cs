// Over 400 lines: the parallel writer is one pipeline (dedup → compress → seal → pack → upload → index) whose
// stages share the in-flight state; splitting it would spread one concurrency protocol over several files.
using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;
using Lifeboat.Core;
using Lifeboat.Repository.Crypto;
using Lifeboat.Repository.Format;
using Lifeboat.Repository.Index;
using Lifeboat.Targets;

namespace Lifeboat.Repository.Writing;

public sealed record WriterOptions
{
    /// <summary>Workers that hash, compress, encrypt and pack chunks (default: one per core).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Overrides the repository's zstd level for this writer.</summary>
    public int? CompressionLevel { get; init; }

    /// <summary>Finished packs being saved at once.</summary>
    public int UploadConcurrency { get; init; } = 2;

    /// <summary>Where packs are staged before they are saved; default: the target's spool directory or the system temp directory.</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>An index object is written after this many packs (repository format, section 14).</summary>
    public int PacksPerIndexObject { get; init; } = 64;
}

/// <summary>What a writer stored.</summary>
public sealed record WriterResult(long Chunks, long NewChunks, long NewBytes, long StoredBytes, long Packs, IReadOnlyList<ChunkId> IndexObjects);

/// <summary>
/// Stores chunks in the repository: the data path <c>chunk → hash → dedup → frame (compress, seal) → pack → target</c>
/// (DESIGN.md), in parallel workers with bounded memory. Packs are saved as they fill; index objects are written
/// after <see cref="WriterOptions.PacksPerIndexObject"/> packs and by <see cref="CompleteAsync"/>. A chunk is
/// committed only once <see cref="CompleteAsync"/> returns; only then may a manifest name it.
/// </summary>
/// <remarks>
/// <see cref="SubmitAsync"/> may be called from one producer at a time per <see cref="ChunkList"/>;
/// <see cref="AddTreeChunk"/> from one thread at a time. The first failure of any worker or upload fails the writer:
/// every later call and every open <see cref="ChunkList"/> throws it.
/// </remarks>
public sealed partial class RepositoryWriter : IAsyncDisposable
{
    private readonly Repository _repo;
    private readonly ChunkIndex _index;
    private readonly WriterOptions _options;
    /// <summary>How a full staging directory's error begins (packs are staged before they are saved on the target).</summary>
    public const string StagingFailurePrefix = "cannot stage a pack in ";

    private readonly string _spool;
    private readonly Channel<Job> _jobs;
    private readonly Task[] _workers;
    private readonly CancellationTokenSource _cts;
    private readonly ConcurrentDictionary<ChunkId, byte> _pending = new();
    private readonly ConcurrentDictionary<ChunkList, byte> _openLists = new();
    private readonly SemaphoreSlim _uploadSlots;
    private readonly SemaphoreSlim _indexGate = new(1, 1);
    private readonly List<Task> _uploads = [];
    private readonly List<PackDescription> _unindexed = [];
    private readonly List<ChunkId> _indexObjects = [];
    private readonly object _gate = new();
    private readonly object _treeGate = new();
    private readonly ChunkHasher _treeHasher;
    private readonly ObjectCodec _treeCodec;
    private readonly PackBuilder _treePack;
    private readonly List<PackBuilder> _builders = [];
    private Exception? _failure;
    private long _chunks;
    private long _newChunks;
    private long _newBytes;
    private long _storedBytes;
    private long _packs;
    private bool _completed;

    public RepositoryWriter(Repository repository, ChunkIndex index, WriterOptions? options, CancellationToken cancellationToken)
    {
        _repo = repository;
        _index = index;
        _options = options ?? new WriterOptions();
        _spool = _options.SpoolDirectory ?? repository.Target.Capabilities.SpoolDirectory ?? Path.Combine(Path.GetTempPath(), "lifeboat-spool");
        if (_options.SpoolDirectory is null && repository.Target.Innermost() is Targets.Local.LocalTarget local)
        {
            // Inside the repository: with the mode and owner of the target's directories (PackBuilder only creates it).
            local.CreateSpoolDirectory();
        }

        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _uploadSlots = new SemaphoreSlim(Math.Max(1, _options.UploadConcurrency));
        var workers = Math.Max(1, _options.Workers);
        _jobs = Channel.CreateBounded<Job>(new BoundedChannelOptions(workers * 2) { SingleReader = false, SingleWriter = false });
        _treeHasher = repository.CreateHasher();
        _treeCodec = repository.CreateCodec(_options.CompressionLevel);
        _treePack = new PackBuilder(_spool, PackType.Tree, repository.Config.PackSize, repository.Config.FrameSize, _treeCodec);
        _workers = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            _workers[i] = Task.Run(WorkerAsync, CancellationToken.None);
        }
    }

    /// <summary>Starts the chunk list of a new file or stream.</summary>
    public ChunkList BeginList()
    {
        ThrowIfFailed();
        var list = new ChunkList();
        _openLists[list] = 0;
        list.Finished += l => _openLists.TryRemove(l, out _);
        return list;
    }

    /// <summary>
    /// Queues chunks for storage: <paramref name="buffer"/>[0..<paramref name="length"/>) is one chunk when
    /// <paramref name="blockSize"/> is 0, otherwise consecutive blocks of <paramref name="blockSize"/> bytes (the last may be shorter).
    /// The writer takes ownership of <paramref name="buffer"/> and returns it to <see cref="ArrayPool{T}.Shared"/>
    /// when <paramref name="pooled"/>. Waits when the workers are busy (bounded memory).
    /// </summary>
    public async ValueTask SubmitAsync(ChunkList list, byte[] buffer, int length, int blockSize, bool pooled, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        var count = blockSize == 0 ? 1 : (length + blockSize - 1) / blockSize;
        if (length == 0)
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return;
        }

        var first = list.Reserve(count);
        var job = new Job(list, first, count, buffer, length, blockSize, pooled);
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
            await _jobs.Writer.WriteAsync(job, linked.Token);
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException && _failure is not null)
        {
            ThrowIfFailed();
            throw;
        }
    }

    /// <summary>Stores one tree chunk (synchronously, on the caller's thread) and returns its id.</summary>
    public ChunkId AddTreeChunk(ReadOnlySpan<byte> chunk)
    {
        ThrowIfFailed();
        lock (_treeGate)
        {
            var id = _treeHasher.Compute(chunk);
            Interlocked.Increment(ref _chunks);
            if (!_index.Contains(id) && _pending.TryAdd(id, 0))
            {
                Interlocked.Increment(ref _newChunks);
                Interlocked.Add(ref _newBytes, chunk.Length);
                _treePack.Add(id, chunk);
                if (_treePack.IsFull)
                {
                    StartUpload(_treePack.Finish()!);
                }
            }

            return id;
        }
    }

    /// <summary>Bytes stored on the target so far (packs and index objects).</summary>
    public long StoredBytes => Interlocked.Read(ref _storedBytes);

    public long NewBytes => Interlocked.Read(ref _newBytes);

    /// <summary>
    /// Waits for every queued chunk, saves the last packs and an index object covering every pack not yet indexed.
    /// Afterwards every chunk given to this writer is committed.
    /// </summary>
    public async Task<WriterResult> CompleteAsync(CancellationToken cancellationToken)
    {
        _jobs.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers).WaitAsync(cancellationToken);
        }
        catch (Exception) when (_failure is not null)
        {
        }

        ThrowIfFailed();
        lock (_treeGate)
        {
            if (_treePack.Finish() is { } pack)
            {
                StartUpload(pack);
            }
        }

        Task[] uploads;
        lock (_gate)
        {
            uploads = _uploads.ToArray();
        }

        try
        {
            await Task.WhenAll(uploads).WaitAsync(cancellationToken);
        }
        catch (Exception) when (_failure is not null)
        {
        }

        ThrowIfFailed();
        await WriteIndexAsync(force: true, cancellationToken);
        _completed = true;
        return new WriterResult(Interlocked.Read(ref _chunks), Interlocked.Read(ref _newChunks), Interlocked.Read(ref _newBytes), Interlocked.Read(ref _storedBytes), Interlocked.Read(ref _packs), _indexObjects.ToList());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_completed)
        {
            Fail(new OperationCanceledException("the writer was disposed before it completed"));
        }

        _jobs.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_workers);
        }
        catch (Exception)
        {
            // already recorded as the writer's failure
        }

        Task[] uploads;
        lock (_gate)
        {
            uploads = _uploads.ToArray();
        }

        try
        {
            await Task.WhenAll(uploads);
        }
        catch (Exception)
        {
            // already recorded
        }

        foreach (var builder in _builders)
        {
            builder.Dispose();
        }

        _treePack.Dispose();
        _treeHasher.Dispose();
        _treeCodec.Dispose();
        _cts.Dispose();
    }

    private async Task WorkerAsync()
    {
        using var hasher = _repo.CreateHasher();
        using var codec = _repo.CreateCodec(_options.CompressionLevel);
        var builder = new PackBuilder(_spool, PackType.Data, _repo.Config.PackSize, _repo.Config.FrameSize, codec);
        lock (_gate)
        {
            _builders.Add(builder);
        }

        var ids = new ChunkId[16];
        try
        {
            await foreach (var job in _jobs.Reader.ReadAllAsync(_cts.Token))
            {
                try
                {
                    if (ids.Length < job.Count)
                    {
                        ids = new ChunkId[job.Count];
                    }

                    for (var k = 0; k < job.Count; k++)
                    {
                        var offset = job.BlockSize == 0 ? 0 : k * job.BlockSize;
                        var length = job.BlockSize == 0 ? job.Length : Math.Min(job.BlockSize, job.Length - offset);
                        var chunk = job.Buffer.AsSpan(offset, length);
                        var id = hasher.Compute(chunk);
                        if (!_index.Contains(id) && _pending.TryAdd(id, 0))
                        {
                            Interlocked.Increment(ref _newChunks);
                            Interlocked.Add(ref _newBytes, length);
                            builder.Add(id, chunk);
                            if (builder.IsFull)
                            {
                                StartUpload(builder.Finish()!);
                            }
                        }

                        ids[k] = id;
                    }

                    Interlocked.Add(ref _chunks, job.Count);
                    job.List.Set(job.First, ids.AsSpan(0, job.Count));
                }
                finally
                {
                    if (job.Pooled)
                    {
                        ArrayPool<byte>.Shared.Return(job.Buffer);
                    }
                }
            }

            // No more input: this worker's last pack is complete.
            if (builder.Finish() is { } last)
            {
                StartUpload(last);
            }
        }
        catch (Exception ex)
        {
            Fail(ex);
            throw;
        }
    }

    private void StartUpload(FinishedPack pack)
    {
        var task = UploadAsync(pack);
        lock (_gate)
        {
            _uploads.RemoveAll(t => t.IsCompletedSuccessfully);
            _uploads.Add(task);
        }
    }

    private async Task UploadAsync(FinishedPack pack)
    {
        var token = _cts.Token;
        try
        {
            await _uploadSlots.WaitAsync(token);
            try
            {
                await _repo.Target.SaveFileAsync(pack.Description.ObjectName, pack.SpoolPath, SaveMode.Replace, token);
            }
            finally
            {
                _uploadSlots.Release();
                PackBuilder.TryDelete(pack.SpoolPath);
            }

            Interlocked.Add(ref _storedBytes, pack.Description.Size);
            Interlocked.Increment(ref _packs);
            lock (_gate)
            {
                _unindexed.Add(pack.Description);
            }

            await WriteIndexAsync(force: false, token);
        }
        catch (Exception ex)
        {
            PackBuilder.TryDelete(pack.SpoolPath);
            Fail(ex);
            throw;
        }
    }

    private async Task WriteIndexAsync(bool force, CancellationToken cancellationToken)
    {
        await _indexGate.WaitAsync(cancellationToken);
        try
        {
            List<PackDescription> packs;
            lock (_gate)
            {
                if (_unindexed.Count == 0 || (!force && _unindexed.Count < _options.PacksPerIndexObject))
                {
                    return;
                }

                packs = _unindexed.ToList();
                _unindexed.Clear();
            }

            var (id, size) = await _repo.SaveIndexAsync([], packs, cancellationToken);
            Interlocked.Add(ref _storedBytes, size);
            lock (_gate)
            {
                _indexObjects.Add(id);
            }
        }
        finally
        {
            _indexGate.Release();
        }
    }

    private void Fail(Exception error)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            _cts.Cancel();
            _jobs.Writer.TryComplete(error);
            foreach (var list in _openLists.Keys)
            {
                list.Fail(error);
            }
        }
    }

    private void ThrowIfFailed()
    {
        var failure = _failure;
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    private sealed record Job(ChunkList List, int First, int Count, byte[] Buffer, int Length, int BlockSize, bool Pooled);
}
