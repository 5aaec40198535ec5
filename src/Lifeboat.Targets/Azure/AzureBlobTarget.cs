using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Lifeboat.Targets.Azure;

/// <summary>
/// A container (and blob name prefix) in Azure Blob Storage. Objects are block blobs and exist only once written whole:
/// one Put Blob up to <see cref="StagedThreshold"/>, above it blocks are staged and the block list is committed last, so a
/// failed or cancelled upload leaves at most uncommitted blocks, which readers never see and Azure discards (at the next
/// commit of that blob, or after a week).
/// </summary>
/// <remarks>
/// <see cref="SaveMode.Create"/> is atomic: the Put Blob or the commit carries <c>If-None-Match: *</c>. The SDK's own retries
/// are off: <see cref="RetryingTarget"/> is the one place that retries. Thread-safe.
/// </remarks>
public sealed partial class AzureBlobTarget : ITarget
{
    /// <summary>Objects up to this size go in one Put Blob; larger ones are staged in blocks.</summary>
    public const int StagedThreshold = 16 << 20;

    /// <summary>The size of each staged block (the last may be smaller).</summary>
    public const int BlockSize = 8 << 20;

    private const string TempMarker = ".tmp-";

    private readonly BlobContainerClient _container;
    private readonly AzureLocation _location;
    private readonly string _root;

    public AzureBlobTarget(AzureLocation location, IReadOnlyDictionary<string, string?> environment)
    {
        _location = location;
        _root = location.Prefix.Length == 0 ? "" : location.Prefix + "/";
        DisplayName = location.DisplayName;
        (_container, CredentialSource) = Connect(location, environment, DisplayName);
    }

    public string DisplayName { get; }

    /// <summary>Where the credential came from (named in authentication errors).</summary>
    public AzureCredentialSource CredentialSource { get; }

    public TargetCapabilities Capabilities { get; } = new(AtomicCreate: true, DefaultConcurrency: 8, IsLocal: false);

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => SaveAsync(name, ObjectSource.ForUpload(path, Describe(name)), mode, cancellationToken);

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var blob = _container.GetBlockBlobClient(BlobNameOf(name));
        var conditions = mode == SaveMode.Create ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null;
        await using var input = ContentStream.Open(content, Describe(name));
        try
        {
            if (content.Length <= StagedThreshold)
            {
                using var buffer = new PartBuffer((int)content.Length);
                await buffer.FillAsync(input, (int)content.Length, cancellationToken);
                if (buffer.Count < content.Length)
                {
                    throw UploadChecks.ShortContent(Describe(name), buffer.Count, content.Length);
                }

                await blob.UploadAsync(
                    buffer.OpenRead(),
                    new BlobUploadOptions
                    {
                        Conditions = conditions,
                        // One request: the whole object is in memory already.
                        TransferOptions = new StorageTransferOptions { InitialTransferSize = StagedThreshold, MaximumTransferSize = StagedThreshold, MaximumConcurrency = 1 },
                    },
                    cancellationToken);
            }
            else
            {
                await StageAndCommitAsync(blob, name, input, content.Length, conditions, cancellationToken);
            }
        }
        catch (RequestFailedException ex) when (mode == SaveMode.Create && ex.Status is 409 or 412 && ex.ErrorCode is "BlobAlreadyExists" or "ConditionNotMet" or null)
        {
            throw new TargetException(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists", inner: ex);
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "write");
        }
    }

    private async Task StageAndCommitAsync(BlockBlobClient blob, string name, Stream input, long length, BlobRequestConditions? conditions, CancellationToken cancellationToken)
    {
        // Block ids are per blob and must all have the same length; a random prefix per upload keeps two writers of the
        // same name (a race between creates) from committing each other's blocks.
        var upload = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var ids = new List<string>();
        using var buffer = new PartBuffer(BlockSize);
        long sent = 0;
        while (sent < length)
        {
            var size = (int)Math.Min(BlockSize, length - sent);
            await buffer.FillAsync(input, size, cancellationToken);
            if (buffer.Count < size)
            {
                throw UploadChecks.ShortContent(Describe(name), sent + buffer.Count, length);
            }

            var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{upload}-{ids.Count:D6}"));
            await blob.StageBlockAsync(id, buffer.OpenRead(), new BlockBlobStageBlockOptions(), cancellationToken);
            ids.Add(id);
            sent += size;
        }

        await blob.CommitBlockListAsync(ids, new CommitBlockListOptions { Conditions = conditions }, cancellationToken);
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var blob = _container.GetBlobClient(BlobNameOf(name));
        if (length == 0)
        {
            var info = await StatAsync(name, cancellationToken) ?? throw NotFound(name);
            if (offset > info.Size)
            {
                throw UploadChecks.PastTheEnd(Describe(name), info.Size, offset, length);
            }

            await consumer(Stream.Null, cancellationToken);
            return;
        }

        Response<BlobDownloadStreamingResult> response;
        try
        {
            response = await blob.DownloadStreamingAsync(new BlobDownloadOptions { Range = new HttpRange(offset, length > 0 ? length : null) }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            var size = (await StatAsync(name, cancellationToken))?.Size ?? throw NotFound(name);
            if (length < 0 && offset == size)
            {
                // "Everything from the end" is nothing, as on a local target; no byte range can say so.
                await consumer(Stream.Null, cancellationToken);
                return;
            }

            throw UploadChecks.PastTheEnd(Describe(name), size, offset, length);
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "read");
        }

        using var result = response.Value;
        var total = UploadChecks.TotalFromContentRange(result.Details.ContentRange) ?? result.Details.ContentLength;
        if (length > 0 && offset + length > total)
        {
            throw UploadChecks.PastTheEnd(Describe(name), total, offset, length);
        }

        await using var body = new DownloadStream(result.Content, result.Details.ContentLength, Describe(name));
        await consumer(body, cancellationToken);
    }

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            var properties = (await _container.GetBlobClient(BlobNameOf(name)).GetPropertiesAsync(cancellationToken: cancellationToken)).Value;
            return new ObjectInfo(name, properties.ContentLength) { Modified = properties.LastModified };
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode is "BlobNotFound" or null)
        {
            return null;
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "stat");
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuation = null;
        do
        {
            Page<BlobItem> page;
            try
            {
                var pages = _container.GetBlobsAsync(BlobTraits.None, BlobStates.None, _root + prefix, cancellationToken).AsPages(continuation, 5000);
                await using var enumerator = pages.GetAsyncEnumerator(cancellationToken);
                if (!await enumerator.MoveNextAsync())
                {
                    yield break;
                }

                page = enumerator.Current;
            }
            catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
            {
                throw Classify(ex, prefix, "list");
            }

            foreach (var item in page.Values)
            {
                var name = item.Name[_root.Length..];
                if (name.Length == 0 || name[(name.LastIndexOf('/') + 1)..].Contains(TempMarker, StringComparison.Ordinal))
                {
                    continue;
                }

                yield return new ObjectInfo(name, item.Properties.ContentLength ?? 0) { Modified = item.Properties.LastModified };
            }

            continuation = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(BlobNameOf(name)).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "delete");
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string BlobNameOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\'))
        {
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        }

        return _root + name;
    }

    private string Describe(string name) => $"{DisplayName}/{name}";

    private TargetException NotFound(string name, Exception? inner = null) => new(TargetErrorKind.NotFound, $"{Describe(name)} does not exist", inner: inner);
}
