using System.Collections;
using Lifeboat.Core;
using Lifeboat.Targets.Azure;
using Lifeboat.Targets.Ftp;
using Lifeboat.Targets.Local;
using Lifeboat.Targets.S3;
using Lifeboat.Targets.Sftp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lifeboat.Targets;

/// <summary>Turns a repository or target URL into a target, composing the decorators in one place.</summary>
public static class TargetFactory
{
    /// <summary>
    /// Opens <paramref name="url"/> (CLI.md: <c>file:///abs/path</c>, <c>s3://</c>, <c>azure://</c>, <c>sftp://</c>, <c>ftps://</c>; a plain
    /// absolute path is accepted as a local directory) wrapped for retries and a concurrency limit.
    /// </summary>
    /// <exception cref="LifeboatException">The URL is wrong (exit 2): the message says which part and how to fix it.</exception>
    public static ITarget Open(string url, TargetOpenOptions? options = null)
    {
        options ??= new TargetOpenOptions();
        var raw = OpenRaw(url, options.Environment, options.GroupReadable);
        if (options.Decorator is not null)
        {
            raw = options.Decorator(raw);
        }

        var limited = new ConcurrencyLimitedTarget(raw, options.Concurrency ?? raw.Capabilities.DefaultConcurrency);
        return new RetryingTarget(limited, options.Retry, options.Logger ?? NullLogger.Instance, options.TimeProvider ?? TimeProvider.System);
    }

    /// <summary>Opens the target itself, without decorators. Opening does not connect: the first operation does.</summary>
    /// <param name="environment">Where credentials are read from (AWS_*, AZURE_STORAGE_*, LIFEBOAT_SFTP_*, LIFEBOAT_FTP_PASSWORD); null: the process environment.</param>
    /// <param name="groupReadable">A local directory: write objects 0640 and directories 0750 instead of 0600 and 0700.</param>
    public static ITarget OpenRaw(string url, IReadOnlyDictionary<string, string?>? environment = null, bool groupReadable = false)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new LifeboatException(ErrorCode.Config, "no repository URL is configured", "pass --repo URL to `lifeboat repo init`, or set Repository:Url in the configuration file");
        }

        if (url.StartsWith('/'))
        {
            return new LocalTarget(url, groupReadable);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new LifeboatException(ErrorCode.Config, $"'{Redact.Url(url)}' is not a repository URL", "use file:///absolute/path, s3://bucket/prefix, azure://container/prefix, sftp://user@host/path or ftps://user@host/path");
        }

        if (uri.Scheme == "file")
        {
            return OpenFile(uri, url, groupReadable);
        }

        if (uri.Scheme is "s3" or "azure" or "sftp" or "ftp" or "ftps" && !url.Contains("://", StringComparison.Ordinal))
        {
            throw new LifeboatException(ErrorCode.Config, $"'{Redact.Url(url)}' is not a repository URL", $"write {uri.Scheme}://… (two slashes after the colon)");
        }

        if (uri.Scheme is not ("s3" or "azure" or "sftp" or "ftp" or "ftps"))
        {
            throw new LifeboatException(
                ErrorCode.Config,
                $"targets of kind '{uri.Scheme}' are not supported ('{Redact.Url(url)}')",
                "use file:///absolute/path, s3://bucket/prefix, azure://container/prefix, sftp://user@host/path or ftps://user@host/path");
        }

        environment ??= ProcessEnvironment();
        var parsed = TargetUrl.Parse(url);
        return parsed.Scheme switch
        {
            "s3" => new S3Target(S3Location.Parse(parsed).WithRegionFrom(environment), S3Credentials.FromEnvironment(environment)),
            "azure" => new AzureBlobTarget(AzureLocation.Parse(parsed), environment),
            "ftp" or "ftps" => new FtpTarget(FtpLocation.Parse(parsed), FtpSecrets.FromEnvironment(environment)),
            _ => new SftpTarget(SftpLocation.Parse(parsed, environment.GetValueOrDefault("HOME")), SftpSecrets.FromEnvironment(environment)),
        };
    }

    private static Dictionary<string, string?> ProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            result[(string)entry.Key] = entry.Value as string;
        }

        return result;
    }

    private static LocalTarget OpenFile(Uri uri, string url, bool groupReadable)
    {
        if (!string.IsNullOrEmpty(uri.Host) && uri.Host != "localhost")
        {
            throw new LifeboatException(ErrorCode.Config, $"'{Redact.Url(url)}' names host '{uri.Host}'; a file URL must name a local absolute path", "write file:///absolute/path (three slashes)");
        }

        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        if (path.Trim('/').Length == 0)
        {
            // Most likely an empty variable in file://$DIR: never use the file system root as a repository.
            throw new LifeboatException(ErrorCode.Config, $"'{url}' names no directory", "write file:///absolute/path/to/the/repository");
        }

        if (!Path.IsPathRooted(path))
        {
            throw new LifeboatException(ErrorCode.Config, $"'{url}' is not an absolute path", "write file:///absolute/path");
        }

        return new LocalTarget(path, groupReadable);
    }
}

public sealed record TargetOpenOptions
{
    public RetryOptions Retry { get; init; } = new();

    public int? Concurrency { get; init; }

    public ILogger? Logger { get; init; }

    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Where credentials come from (AWS_*, AZURE_STORAGE_*, LIFEBOAT_SFTP_*, HOME); null: the process environment.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Wraps the target itself, inside the retry and concurrency decorators (fault injection in tests).</summary>
    public Func<ITarget, ITarget>? Decorator { get; init; }

    /// <summary>A local directory: let the group read what is written (0640/0750 instead of 0600/0700).</summary>
    public bool GroupReadable { get; init; }
}
