using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Lifeboat.Targets.S3;

/// <summary>
/// Uploads of an S3 target: one PUT, or a multipart upload completed last and aborted on failure; and the probe for
/// conditional writes.
/// </summary>
public sealed partial class S3Target
{
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
}
