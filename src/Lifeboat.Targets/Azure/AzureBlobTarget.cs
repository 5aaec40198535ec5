using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Lifeboat.Core;

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
public sealed class AzureBlobTarget : ITarget
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

    private static (BlobContainerClient, AzureCredentialSource) Connect(AzureLocation location, IReadOnlyDictionary<string, string?> environment, string displayName)
    {
        var options = new BlobClientOptions();
        // RetryingTarget is the one place that retries.
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromMinutes(2);

        var connectionString = environment.GetValueOrDefault("AZURE_STORAGE_CONNECTION_STRING");
        if (!string.IsNullOrEmpty(connectionString))
        {
            if (location.Endpoint is not null)
            {
                throw new LifeboatException(
                    ErrorCode.Config,
                    $"{displayName}: both the URL (endpoint=) and AZURE_STORAGE_CONNECTION_STRING name the endpoint",
                    "leave endpoint= out of the URL (the connection string has BlobEndpoint=), or unset AZURE_STORAGE_CONNECTION_STRING");
            }

            BlobServiceClient service;
            try
            {
                service = new BlobServiceClient(connectionString, options);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new LifeboatException(ErrorCode.Config, $"{displayName}: AZURE_STORAGE_CONNECTION_STRING is not a storage connection string", "copy it from the portal (Access keys → Connection string)", ex);
            }

            if (location.Account is not null && !string.Equals(service.AccountName, location.Account, StringComparison.Ordinal))
            {
                throw new LifeboatException(
                    ErrorCode.Config,
                    $"{displayName}: the URL names the account '{location.Account}', AZURE_STORAGE_CONNECTION_STRING the account '{service.AccountName}'",
                    "make them agree, or leave account= out of the URL");
            }

            return (service.GetBlobContainerClient(location.Container), AzureCredentialSource.ConnectionString);
        }

        if (location.Account is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"{displayName} names no storage account", "add ?account=NAME to the URL (or set AZURE_STORAGE_CONNECTION_STRING)");
        }

        var containerUri = new Uri(location.ServiceUri.ToString().TrimEnd('/') + "/" + location.Container);
        var key = environment.GetValueOrDefault("AZURE_STORAGE_KEY");
        if (!string.IsNullOrEmpty(key))
        {
            StorageSharedKeyCredential credential;
            try
            {
                credential = new StorageSharedKeyCredential(location.Account, key);
            }
            catch (FormatException ex)
            {
                throw new LifeboatException(ErrorCode.Config, $"{displayName}: AZURE_STORAGE_KEY is not a storage account key (base64)", "copy key1 or key2 from the portal (Access keys)", ex);
            }

            return (new BlobContainerClient(containerUri, credential, options), AzureCredentialSource.AccountKey);
        }

        var sas = environment.GetValueOrDefault("AZURE_STORAGE_SAS_TOKEN");
        if (!string.IsNullOrEmpty(sas))
        {
            return (new BlobContainerClient(containerUri, new AzureSasCredential(sas.TrimStart('?')), options), AzureCredentialSource.SasToken);
        }

        return (new BlobContainerClient(containerUri, new DefaultAzureCredential(), options), AzureCredentialSource.DefaultAzureCredential);
    }

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
    {
        ObjectSource source;
        try
        {
            source = ObjectSource.FromFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TargetException(TargetErrorKind.Other, $"cannot read {path} to store it as {Describe(name)}: {ex.Message}", isTransient: false, inner: ex);
        }

        return SaveAsync(name, source, mode, cancellationToken);
    }

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var blob = _container.GetBlockBlobClient(BlobNameOf(name));
        var conditions = mode == SaveMode.Create ? new BlobRequestConditions { IfNoneMatch = ETag.All } : null;
        await using var input = content.OpenRead();
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

    /// <summary>Failures of the SDK or the network; not our own cancellation, nor the content's exceptions.</summary>
    private static bool IsSdkFailure(Exception ex, CancellationToken cancellationToken)
        => ex is not TargetException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
           && ex is RequestFailedException or AuthenticationFailedException or HttpRequestException or IOException or OperationCanceledException or TimeoutException;

    /// <summary>Classifies a failure where it arises (STYLE.md rule 5). Messages name the target, never a credential.</summary>
    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        var account = _container.AccountName;
        var credential = CredentialSource switch
        {
            AzureCredentialSource.ConnectionString => "AZURE_STORAGE_CONNECTION_STRING",
            AzureCredentialSource.AccountKey => "AZURE_STORAGE_KEY",
            AzureCredentialSource.SasToken => "AZURE_STORAGE_SAS_TOKEN",
            _ => "DefaultAzureCredential",
        };
        if (ex is AuthenticationFailedException identity)
        {
            return new TargetException(
                TargetErrorKind.AuthenticationFailed,
                $"{DisplayName}: no Azure credential could be obtained for the account '{account}' ({identity.GetType().Name})",
                hint: "set AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, or sign in for DefaultAzureCredential (managed identity, workload identity, az login)",
                inner: ex);
        }

        if (ex is RequestFailedException request)
        {
            var code = request.ErrorCode ?? "";
            return (request.Status, code) switch
            {
                (404, "ContainerNotFound") => new TargetException(
                    TargetErrorKind.Misconfigured,
                    $"{DisplayName}: the container '{_location.Container}' does not exist in the account '{account}'",
                    hint: "create the container, or correct the container or account in the URL",
                    inner: ex),
                (404, _) => NotFound(name, ex),
                (403, "AuthenticationFailed") or (401, _) => new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: the account '{account}' refused the credential from {credential} ({request.Status} {code})".Replace(" )", ")", StringComparison.Ordinal),
                    hint: $"check {credential} for this account (an expired SAS, a rotated key, a clock far off)",
                    inner: ex),
                // Azure: a firewall rule or a credential the account does not accept at all; Azurite: any failed signature.
                (403, "AuthorizationFailure") => new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: the account '{account}' refused the credential from {credential} ({request.Status} {code})",
                    hint: $"check {credential} for this account, and that the account's network rules let this machine in",
                    inner: ex),
                (403, _) => new TargetException(
                    TargetErrorKind.AccessDenied,
                    $"{what}: access denied by the account '{account}' ({code})",
                    hint: "give the identity read, write, delete and list permissions on the container (e.g. the Storage Blob Data Contributor role), or a SAS with racwdl",
                    inner: ex),
                (416, _) => new TargetException(TargetErrorKind.Other, $"{what}: the range lies beyond the end of the object", isTransient: false, inner: ex),
                (0, _) => new TargetException(TargetErrorKind.Unavailable, $"{what}: {_container.Uri.GetLeftPart(UriPartial.Authority)} could not be reached: {Innermost(ex).Message}", inner: ex),
                (408 or 429 or >= 500, _) => new TargetException(TargetErrorKind.Unavailable, $"{what}: the service answered {request.Status} {code}".TrimEnd(), inner: ex),
                _ => new TargetException(TargetErrorKind.Other, $"{what}: the service answered {request.Status} {code}".TrimEnd(), isTransient: false, inner: ex),
            };
        }

        return new TargetException(TargetErrorKind.Unavailable, $"{what}: {_container.Uri.GetLeftPart(UriPartial.Authority)} could not be reached: {Innermost(ex).Message}", inner: ex);
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
