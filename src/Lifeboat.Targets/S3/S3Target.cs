using System.Net;
using System.Runtime.CompilerServices;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Lifeboat.Core;

namespace Lifeboat.Targets.S3;

/// <summary>
/// A bucket (and key prefix) on AWS S3 or an S3-compatible server. An object exists only once its upload completed: a
/// single PUT up to <see cref="MultipartThreshold"/>, above it a multipart upload that is completed last and aborted on
/// failure or cancellation.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="SaveMode.Create"/> sends <c>If-None-Match: *</c> where the server honours it (AWS S3 since 2024, MinIO,
/// R2, Ceph): then it is atomic. Whether it does is found out by the first create of each target instance, with a tiny
/// probe object (<see cref="ProbeName"/>, named like a temporary object so readers ignore it): two conditional PUTs of
/// the same key, the second must be refused. Until then, and on servers that ignore the header (s3rver), a create
/// checks with HEAD first: not atomic, and <see cref="TargetCapabilities.AtomicCreate"/> says so.
/// </para>
/// <para>
/// The SDK's own retries are off (<c>MaxErrorRetry = 0</c>): <see cref="RetryingTarget"/> is the one place that retries.
/// Thread-safe.
/// </para>
/// </remarks>
public sealed partial class S3Target : ITarget
{
    /// <summary>Objects up to this size go in one PUT; larger ones in a multipart upload.</summary>
    public const int MultipartThreshold = 16 << 20;

    /// <summary>The size of each part of a multipart upload (the last may be smaller).</summary>
    public const int PartSize = 8 << 20;

    /// <summary>The object that tells whether the server honours <c>If-None-Match: *</c> on PUT.</summary>
    public const string ProbeName = ".tmp-conditional-create-probe";

    private const string TempMarker = ".tmp-";
    private static readonly TargetCapabilities Atomic = new(AtomicCreate: true, DefaultConcurrency: 8, IsLocal: false);
    private static readonly TargetCapabilities CheckThenWrite = new(AtomicCreate: false, DefaultConcurrency: 8, IsLocal: false);

    private readonly AmazonS3Client _client;
    private readonly S3Location _location;
    private readonly string _root;
    private readonly bool _signPayload;
    private readonly SemaphoreSlim _probeLock = new(1, 1);
    private volatile int _conditionalWrites; // 0 unknown, 1 honoured, -1 ignored

    public S3Target(S3Location location, S3Credentials? credentials)
    {
        _location = location;
        _root = location.Prefix.Length == 0 ? "" : location.Prefix + "/";
        DisplayName = location.DisplayName;
        var config = new AmazonS3Config
        {
            ForcePathStyle = location.PathStyle,
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            // Flexible checksums (aws-chunked bodies with trailers) are not understood by every S3-compatible server; the
            // repository authenticates every object itself, and the payload is signed (http) or protected by TLS (https).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (location.Endpoint is not null)
        {
            config.ServiceURL = location.Endpoint.ToString();
            config.AuthenticationRegion = location.Region ?? "us-east-1";
        }
        else if (location.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(location.Region);
        }

        // Over TLS the payload is protected already; over plain http (a server on the local network) it is signed.
        _signPayload = location.Endpoint is not null && location.Endpoint.Scheme == Uri.UriSchemeHttp;
        try
        {
            _client = credentials switch
            {
                null => new AmazonS3Client(config),
                { SessionToken: null } => new AmazonS3Client(new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey), config),
                _ => new AmazonS3Client(new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, credentials.SessionToken), config),
            };
        }
        catch (AmazonClientException ex) when (location.Endpoint is null && location.Region is null)
        {
            // AWS S3 needs a region; the SDK found none in AWS_REGION or the profile.
            throw new LifeboatException(
                ErrorCode.Config,
                $"{DisplayName}: no region is known (the URL has no region= and neither AWS_REGION nor the AWS profile names one)",
                "add &region=REGION to the URL: the bucket's region, e.g. s3://bucket/prefix?region=eu-west-1",
                ex);
        }
    }

    public string DisplayName { get; }

    public S3Location Location => _location;

    /// <summary><see cref="TargetCapabilities.AtomicCreate"/> is true once a create found that the server honours If-None-Match.</summary>
    public TargetCapabilities Capabilities => _conditionalWrites > 0 ? Atomic : CheckThenWrite;

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => SaveAsync(name, ObjectSource.ForUpload(path, Describe(name)), mode, cancellationToken);

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var key = KeyOf(name);
        var conditional = false;
        if (mode == SaveMode.Create)
        {
            conditional = await ConditionalWritesAsync(cancellationToken);
            if (!conditional && await HeadAsync(key, name, cancellationToken) is not null)
            {
                throw AlreadyExists(name);
            }
        }

        await using var input = ContentStream.Open(content, Describe(name));
        if (content.Length <= MultipartThreshold)
        {
            await PutSingleAsync(key, name, input, content.Length, conditional, cancellationToken);
        }
        else
        {
            await PutMultipartAsync(key, name, input, content.Length, mode, conditional, cancellationToken);
        }
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var key = KeyOf(name);
        if (length == 0)
        {
            // No byte range can express "nothing": check that the object exists and is long enough.
            var info = await HeadAsync(key, name, cancellationToken) ?? throw NotFound(name);
            if (offset > info.Size)
            {
                throw UploadChecks.PastTheEnd(Describe(name), info.Size, offset, length);
            }

            await consumer(Stream.Null, cancellationToken);
            return;
        }

        var request = new GetObjectRequest { BucketName = _location.Bucket, Key = key };
        if (offset > 0 || length > 0)
        {
            request.ByteRange = length > 0 ? new ByteRange(offset, offset + length - 1) : new ByteRange($"bytes={offset}-");
        }

        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            var size = (await HeadAsync(key, name, cancellationToken))?.Size ?? throw NotFound(name);
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

        using (response)
        {
            var total = UploadChecks.TotalFromContentRange(response.ContentRange) ?? response.ContentLength;
            if (length > 0 && offset + length > total)
            {
                throw UploadChecks.PastTheEnd(Describe(name), total, offset, length);
            }

            await using var body = new DownloadStream(response.ResponseStream, response.ContentLength, Describe(name));
            await consumer(body, cancellationToken);
        }
    }

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await HeadAsync(KeyOf(name), name, cancellationToken);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListObjectsV2Request { BucketName = _location.Bucket, Prefix = _root + prefix };
        while (true)
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(request, cancellationToken);
            }
            catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
            {
                throw Classify(ex, prefix, "list");
            }

            foreach (var item in page.S3Objects ?? [])
            {
                var name = item.Key[_root.Length..];
                if (name.Length == 0 || name.EndsWith('/') || name[(name.LastIndexOf('/') + 1)..].Contains(TempMarker, StringComparison.Ordinal))
                {
                    continue; // "directory" markers of console uploads, and temporary objects (format section 2)
                }

                yield return new ObjectInfo(name, item.Size ?? 0) { Modified = item.LastModified };
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            // S3 answers 204 whether or not the key existed.
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _location.Bucket, Key = KeyOf(name) }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "delete");
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _probeLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<ObjectInfo?> HeadAsync(string key, string name, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _location.Bucket, Key = key }, cancellationToken);
            return new ObjectInfo(name, head.ContentLength) { Modified = head.LastModified };
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "stat");
        }
    }

    private string KeyOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\'))
        {
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        }

        return _root + name;
    }

    private string Describe(string name) => $"{DisplayName}/{name}";

    private TargetException NotFound(string name, Exception? inner = null) => new(TargetErrorKind.NotFound, $"{Describe(name)} does not exist", inner: inner);

    private TargetException AlreadyExists(string name, Exception? inner = null) => new(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists", inner: inner);
}
