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
public sealed class S3Target : ITarget
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

        await using var input = content.OpenRead();
        if (content.Length <= MultipartThreshold)
        {
            await PutSingleAsync(key, name, input, content.Length, conditional, cancellationToken);
        }
        else
        {
            await PutMultipartAsync(key, name, input, content.Length, mode, conditional, cancellationToken);
        }
    }

    private async Task PutSingleAsync(string key, string name, Stream input, long length, bool conditional, CancellationToken cancellationToken)
    {
        using var buffer = new PartBuffer((int)length);
        await buffer.FillAsync(input, (int)length, cancellationToken);
        if (buffer.Count < length)
        {
            throw UploadChecks.ShortContent(Describe(name), buffer.Count, length);
        }

        var request = new PutObjectRequest
        {
            BucketName = _location.Bucket,
            Key = key,
            InputStream = buffer.OpenRead(),
            AutoCloseStream = true,
            UseChunkEncoding = false,
            DisablePayloadSigning = !_signPayload,
            IfNoneMatch = conditional ? "*" : null,
        };
        request.Headers.ContentLength = length;
        ApplyWriteOptions(request);
        try
        {
            await _client.PutObjectAsync(request, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (conditional && ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw AlreadyExists(name, ex);
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "write");
        }
    }

    private async Task PutMultipartAsync(string key, string name, Stream input, long length, SaveMode mode, bool conditional, CancellationToken cancellationToken)
    {
        // At most 10,000 parts: larger objects get larger parts.
        var partSize = (int)Math.Max(PartSize, (length + 9_999) / 10_000);
        string uploadId;
        try
        {
            var initiate = new InitiateMultipartUploadRequest { BucketName = _location.Bucket, Key = key };
            if (_location.ServerSideEncryption is not null)
            {
                initiate.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(_location.ServerSideEncryption);
            }

            if (_location.StorageClass is not null)
            {
                initiate.StorageClass = S3StorageClass.FindValue(_location.StorageClass);
            }

            uploadId = (await _client.InitiateMultipartUploadAsync(initiate, cancellationToken)).UploadId;
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, name, "write");
        }

        try
        {
            var parts = new List<PartETag>();
            using var buffer = new PartBuffer(partSize);
            long sent = 0;
            for (var number = 1; sent < length; number++)
            {
                var size = (int)Math.Min(partSize, length - sent);
                await buffer.FillAsync(input, size, cancellationToken);
                if (buffer.Count < size)
                {
                    throw UploadChecks.ShortContent(Describe(name), sent + buffer.Count, length);
                }

                var part = await _client.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = _location.Bucket,
                        Key = key,
                        UploadId = uploadId,
                        PartNumber = number,
                        PartSize = size,
                        InputStream = buffer.OpenRead(),
                        UseChunkEncoding = false,
                        DisablePayloadSigning = !_signPayload,
                    },
                    cancellationToken);
                parts.Add(new PartETag(number, part.ETag));
                sent += size;
            }

            if (mode == SaveMode.Create && !conditional && await HeadAsync(key, name, cancellationToken) is not null)
            {
                // Narrows the race of a check-then-write create to the completion itself.
                throw AlreadyExists(name);
            }

            await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest
                {
                    BucketName = _location.Bucket,
                    Key = key,
                    UploadId = uploadId,
                    PartETags = parts,
                    IfNoneMatch = conditional ? "*" : null,
                },
                cancellationToken);
        }
        catch (Exception ex)
        {
            // Whatever failed (the server, the source, a cancellation), the parts must not linger: abort, best effort
            // (the server may be the thing that failed; a bucket lifecycle rule for incomplete uploads is the backstop).
            await AbortQuietlyAsync(key, uploadId);
            if (ex is AmazonS3Exception s3 && conditional && s3.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                throw AlreadyExists(name, ex);
            }

            if (IsSdkFailure(ex, cancellationToken))
            {
                throw Classify(ex, name, "write");
            }

            throw;
        }
    }

    private async Task AbortQuietlyAsync(string key, string uploadId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _location.Bucket, Key = key, UploadId = uploadId }, timeout.Token);
        }
        catch (Exception ex) when (ex is AmazonClientException or HttpRequestException or IOException or OperationCanceledException)
        {
            // Best effort: the incomplete upload is invisible to readers either way.
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

    /// <summary>Whether the server honours <c>If-None-Match: *</c> on PUT; probed once per instance (see the remarks).</summary>
    internal async ValueTask<bool> ConditionalWritesAsync(CancellationToken cancellationToken)
    {
        if (_conditionalWrites != 0)
        {
            return _conditionalWrites > 0;
        }

        await _probeLock.WaitAsync(cancellationToken);
        try
        {
            if (_conditionalWrites == 0)
            {
                // The first PUT may create the probe; the second finds it. A server that honours the header refuses one of them.
                var honoured = !await PutProbeAsync(cancellationToken) || !await PutProbeAsync(cancellationToken);
                _conditionalWrites = honoured ? 1 : -1;
            }

            return _conditionalWrites > 0;
        }
        finally
        {
            _probeLock.Release();
        }
    }

    /// <summary>A conditional PUT of the probe: true when it was written, false when the server refused it (412).</summary>
    private async Task<bool> PutProbeAsync(CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _location.Bucket,
            Key = _root + ProbeName,
            ContentBody = "probe: does this server honour If-None-Match on PUT?",
            UseChunkEncoding = false,
            DisablePayloadSigning = !_signPayload,
            IfNoneMatch = "*",
        };
        try
        {
            await _client.PutObjectAsync(request, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            return false;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotImplemented)
        {
            return true; // the server refuses conditional writes altogether: check, then write
        }
        catch (Exception ex) when (IsSdkFailure(ex, cancellationToken))
        {
            throw Classify(ex, ProbeName, "write");
        }
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

    private void ApplyWriteOptions(PutObjectRequest request)
    {
        if (_location.ServerSideEncryption is not null)
        {
            request.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(_location.ServerSideEncryption);
        }

        if (_location.StorageClass is not null)
        {
            request.StorageClass = S3StorageClass.FindValue(_location.StorageClass);
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

    /// <summary>
    /// Failures of the SDK or the network, to be classified. Not: our own cancellation, and exceptions of the content being
    /// uploaded (a source may throw a transient <see cref="TargetException"/>, which must reach the retry decorator as it is).
    /// </summary>
    private static bool IsSdkFailure(Exception ex, CancellationToken cancellationToken)
        => ex is not TargetException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
           && ex is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException;

    /// <summary>Classifies a failure where it arises (STYLE.md rule 5). Messages name the target, never a credential.</summary>
    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        var server = _location.Endpoint?.GetLeftPart(UriPartial.Authority) ?? "AWS S3";
        if (ex is AmazonS3Exception s3)
        {
            var code = s3.ErrorCode ?? "";
            var status = (int)s3.StatusCode;
            return code switch
            {
                "NoSuchKey" => NotFound(name, ex),
                "NoSuchBucket" => new TargetException(
                    TargetErrorKind.Misconfigured,
                    $"{DisplayName}: the bucket '{_location.Bucket}' does not exist on {server}",
                    hint: "create the bucket, or correct the bucket name or the endpoint in the URL",
                    inner: ex),
                "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "ExpiredToken" or "TokenRefreshRequired" or "InvalidSecurity" or "AuthorizationHeaderMalformed" => new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: {server} refused the credentials ({code})",
                    hint: "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile) used for this target, and the region",
                    inner: ex),
                "AccessDenied" or "AllAccessDisabled" or "AccountProblem" => new TargetException(
                    TargetErrorKind.AccessDenied,
                    $"{what}: access denied by {server} ({code})",
                    hint: "give the credentials s3:GetObject, s3:PutObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload on this bucket and prefix",
                    inner: ex),
                "InvalidRange" => new TargetException(TargetErrorKind.Other, $"{what}: the range lies beyond the end of the object", isTransient: false, inner: ex),
                "SlowDown" or "RequestTimeout" or "InternalError" or "ServiceUnavailable" or "RequestTimeTooSkewed" or "OperationAborted" or "ConditionalRequestConflict" => Unavailable(what, $"{server} answered {status} {code}", ex),
                _ when s3.StatusCode == HttpStatusCode.NotFound => NotFound(name, ex),
                _ when s3.StatusCode == HttpStatusCode.Unauthorized => new TargetException(
                    TargetErrorKind.AuthenticationFailed, $"{DisplayName}: {server} refused the credentials ({status} {code})".TrimEnd(), hint: "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile) used for this target", inner: ex),
                // A HEAD response has no body, hence no error code: refused credentials and a missing permission look alike.
                "" or "Forbidden" when s3.StatusCode == HttpStatusCode.Forbidden => new TargetException(
                    TargetErrorKind.AccessDenied,
                    $"{what}: {server} answered 403 Forbidden (the credentials were refused, or they lack a permission)",
                    hint: "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile) used for this target, and their permissions on the bucket",
                    inner: ex),
                _ when s3.StatusCode == HttpStatusCode.Forbidden => new TargetException(
                    TargetErrorKind.AccessDenied, $"{what}: access denied by {server} ({status} {code})", inner: ex),
                _ when status >= 500 || status == 429 || status == 0 => Unavailable(what, $"{server} answered {status} {code}".TrimEnd(), ex),
                _ => new TargetException(TargetErrorKind.Other, $"{what}: {server} answered {status} {code}: {s3.Message}", isTransient: false, inner: ex),
            };
        }

        if (ex is AmazonServiceException service && (int)service.StatusCode >= 500)
        {
            return Unavailable(what, $"{server} answered {(int)service.StatusCode}", ex);
        }

        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or System.Net.Sockets.SocketException or IOException or TimeoutException or OperationCanceledException)
            {
                return Unavailable(what, $"{server} could not be reached: {e.Message}", ex);
            }
        }

        if (ex is AmazonClientException client && client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase))
        {
            return new TargetException(
                TargetErrorKind.AuthenticationFailed,
                $"{DisplayName}: no AWS credentials were found",
                hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role provides credentials (web identity, instance profile)",
                inner: ex);
        }

        if (ex is AmazonClientException regionless && regionless.Message.Contains("region", StringComparison.OrdinalIgnoreCase))
        {
            return new TargetException(TargetErrorKind.Misconfigured, $"{DisplayName}: no region is known", hint: "add &region=REGION to the URL, or set AWS_REGION", inner: ex);
        }

        return new TargetException(TargetErrorKind.Other, $"{what}: {ex.Message}", isTransient: false, inner: ex);
    }

    private static TargetException Unavailable(string what, string why, Exception inner) => new(TargetErrorKind.Unavailable, $"{what}: {why}", inner: inner);
}
