using System.Text.RegularExpressions;

namespace Lifeboat.Targets.S3;

/// <summary>
/// Where an S3-compatible target is and how to write to it, parsed from
/// <c>s3://bucket/prefix?endpoint=URL&amp;region=R[&amp;path-style=true][&amp;sse=AES256|aws:kms][&amp;storage-class=CLASS]</c>.
/// Holds no credential: those come from the environment or the AWS SDK's chain.
/// </summary>
public sealed partial record S3Location
{
    /// <summary>Storage classes whose objects can be read at once. GLACIER and DEEP_ARCHIVE need a restore before every read.</summary>
    public static readonly IReadOnlyList<string> ReadableStorageClasses =
        ["STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "REDUCED_REDUNDANCY", "EXPRESS_ONEZONE"];

    public required string Bucket { get; init; }

    /// <summary>The key prefix without leading or trailing '/', or "" for the whole bucket.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The server (MinIO, Ceph, R2, GCS, s3rver), or null for AWS S3.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The region to sign for; null: us-east-1 with an endpoint, else the SDK's region chain (AWS_REGION, the profile).</summary>
    public string? Region { get; init; }

    /// <summary>Path-style addressing (http://endpoint/bucket/key) instead of virtual hosts (http://bucket.endpoint/key).</summary>
    public bool PathStyle { get; init; }

    /// <summary>Server-side encryption: null, "AES256" or "aws:kms".</summary>
    public string? ServerSideEncryption { get; init; }

    /// <summary>The storage class of new objects, or null for the bucket's default.</summary>
    public string? StorageClass { get; init; }

    public string DisplayName => Prefix.Length == 0 ? $"s3://{Bucket}" : $"s3://{Bucket}/{Prefix}";

    internal static S3Location Parse(TargetUrl url)
    {
        url.AllowOnly("endpoint", "region", "path-style", "sse", "storage-class");
        if (url.UserInfo is not null)
        {
            throw url.Error(
                $"'{url.Redacted}' holds credentials; a secret never goes in a URL",
                "remove 'KEY:SECRET@' from the URL and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use an AWS profile or web identity)");
        }

        if (url.Host.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no bucket", "write s3://BUCKET/prefix?endpoint=https://host&region=REGION");
        }

        if (url.PortText is not null)
        {
            throw url.Error($"'{url.Redacted}' puts a port after the bucket '{url.Host}'", "the server goes in the endpoint parameter: s3://bucket/prefix?endpoint=http://host:9000");
        }

        if (!BucketName().IsMatch(url.Host) || url.Host.Contains("..", StringComparison.Ordinal))
        {
            throw url.Error(
                $"'{url.Redacted}' names the bucket '{url.Host}', which is not a valid bucket name",
                "bucket names are 3 to 63 characters: lower-case letters, digits, '.' and '-', starting and ending with a letter or digit");
        }

        var region = url.Get("region");
        if (region is not null && !RegionName().IsMatch(region))
        {
            throw url.Error($"'{url.Redacted}': region={region} is not a region name", "write region=eu-west-1 (or the name your S3-compatible server expects; us-east-1 when it does not care)");
        }

        var sse = url.Get("sse");
        if (sse is not null && sse is not ("AES256" or "aws:kms"))
        {
            throw url.Error($"'{url.Redacted}': sse={sse} is not a server-side encryption Lifeboat knows", "write sse=AES256 (keys managed by S3) or sse=aws:kms (the bucket's KMS key)");
        }

        var storageClass = url.Get("storage-class");
        if (storageClass is "GLACIER" or "DEEP_ARCHIVE")
        {
            throw url.Error(
                $"'{url.Redacted}': objects of storage-class={storageClass} cannot be read without a restore, so backups could not be verified or restored",
                $"use one of {string.Join(", ", ReadableStorageClasses)}; move old objects to {storageClass} with a lifecycle rule instead");
        }

        if (storageClass is not null && !ReadableStorageClasses.Contains(storageClass, StringComparer.Ordinal))
        {
            throw url.Error($"'{url.Redacted}': storage-class={storageClass} is not a storage class Lifeboat knows", $"use one of {string.Join(", ", ReadableStorageClasses)}");
        }

        return new S3Location
        {
            Bucket = url.Host,
            Prefix = url.Prefix(),
            Endpoint = url.GetHttpUrl("endpoint"),
            Region = region,
            PathStyle = url.GetBool("path-style"),
            ServerSideEncryption = sse,
            StorageClass = storageClass,
        };
    }

    /// <summary>
    /// For AWS S3 without region= in the URL: AWS_REGION or AWS_DEFAULT_REGION from <paramref name="environment"/> (else the
    /// SDK looks in the profile).
    /// </summary>
    public S3Location WithRegionFrom(IReadOnlyDictionary<string, string?> environment)
    {
        if (Region is not null || Endpoint is not null)
        {
            return this;
        }

        var region = environment.GetValueOrDefault("AWS_REGION") is { Length: > 0 } r ? r : environment.GetValueOrDefault("AWS_DEFAULT_REGION");
        return string.IsNullOrEmpty(region) ? this : this with { Region = region };
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex BucketName();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionName();
}

/// <summary>Explicit credentials for an S3 target (from the environment), or null to let the AWS SDK's chain find them.</summary>
public sealed record S3Credentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    /// <summary>Hides the secret from logs and debuggers.</summary>
    public override string ToString() => $"S3Credentials {{ AccessKeyId = {AccessKeyId}, SecretAccessKey = ***{(SessionToken is null ? "" : ", SessionToken = ***")} }}";

    /// <summary>AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when both are set, else null.</summary>
    public static S3Credentials? FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        var id = environment.GetValueOrDefault("AWS_ACCESS_KEY_ID");
        var secret = environment.GetValueOrDefault("AWS_SECRET_ACCESS_KEY");
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
        {
            return null;
        }

        var token = environment.GetValueOrDefault("AWS_SESSION_TOKEN");
        return new S3Credentials(id, secret, string.IsNullOrEmpty(token) ? null : token);
    }
}
