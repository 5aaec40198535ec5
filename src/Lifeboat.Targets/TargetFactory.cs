using Lifeboat.Core;
using Lifeboat.Targets.Local;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lifeboat.Targets;

/// <summary>Turns a repository or target URL into a target, composing the decorators in one place.</summary>
public static class TargetFactory
{
    /// <summary>
    /// Opens <paramref name="url"/> (CLI.md: <c>file:///abs/path</c>; a plain absolute path is accepted as a local directory)
    /// wrapped for retries and a concurrency limit.
    /// </summary>
    public static ITarget Open(string url, TargetOpenOptions? options = null)
    {
        options ??= new TargetOpenOptions();
        var raw = OpenRaw(url);
        if (options.Decorator is not null)
        {
            raw = options.Decorator(raw);
        }

        var limited = new ConcurrencyLimitedTarget(raw, options.Concurrency ?? raw.Capabilities.DefaultConcurrency);
        return new RetryingTarget(limited, options.Retry, options.Logger ?? NullLogger.Instance, options.TimeProvider ?? TimeProvider.System);
    }

    /// <summary>Opens the target itself, without decorators.</summary>
    public static ITarget OpenRaw(string url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            throw new LifeboatException(ErrorCode.Config, "no repository URL is configured", "pass --repo URL to `lifeboat repo init`, or set Repository:Url in the configuration file");
        }

        if (url.StartsWith('/'))
        {
            return new LocalTarget(url);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new LifeboatException(ErrorCode.Config, $"'{Redact.Url(url)}' is not a repository URL", "use file:///absolute/path, s3://bucket/prefix, azure://container/prefix or sftp://user@host/path");
        }

        return uri.Scheme switch
        {
            "file" => OpenFile(uri, url),
            _ => throw new LifeboatException(ErrorCode.Config, $"targets of kind '{uri.Scheme}' are not supported by this build ('{Redact.Url(url)}')", "use a file:/// URL"),
        };
    }

    private static LocalTarget OpenFile(Uri uri, string url)
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

        return new LocalTarget(path);
    }
}

public sealed record TargetOpenOptions
{
    public RetryOptions Retry { get; init; } = new();

    public int? Concurrency { get; init; }

    public ILogger? Logger { get; init; }

    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Wraps the target itself, inside the retry and concurrency decorators (fault injection in tests).</summary>
    public Func<ITarget, ITarget>? Decorator { get; init; }
}
