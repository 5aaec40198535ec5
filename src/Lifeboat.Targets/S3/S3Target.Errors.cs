using System.Net;
using Amazon.Runtime;
using Amazon.S3;

namespace Lifeboat.Targets.S3;

/// <summary>The classification of an S3 target's failures, where they arise (STYLE.md rule 5).</summary>
public sealed partial class S3Target
{
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
