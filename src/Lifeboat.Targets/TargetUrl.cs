using Lifeboat.Core;

namespace Lifeboat.Targets;

/// <summary>
/// The parts of a remote target URL (<c>scheme://[user@]host[:port][/path][?name=value&amp;…]</c>), taken from the text as
/// written: unlike <see cref="Uri"/>, the host keeps its case, so that a bucket named wrongly is reported as written.
/// Every error is a configuration error (exit 2) that shows the URL with its secrets masked.
/// </summary>
internal sealed class TargetUrl
{
    private readonly Dictionary<string, string> _query;

    private TargetUrl(string original, string scheme, string? userInfo, string host, string? port, string path, Dictionary<string, string> query)
    {
        Original = original;
        Scheme = scheme;
        UserInfo = userInfo;
        Host = host;
        PortText = port;
        Path = path;
        _query = query;
    }

    /// <summary>The URL as given; never print it without <see cref="Redacted"/>.</summary>
    public string Original { get; }

    public string Redacted => Redact.Url(Original);

    public string Scheme { get; }

    /// <summary>What stands before '@', unescaped, or null.</summary>
    public string? UserInfo { get; }

    public string Host { get; }

    public string? PortText { get; }

    /// <summary>The path, unescaped, with its leading '/' (empty when the URL has none).</summary>
    public string Path { get; }

    public static TargetUrl Parse(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var scheme = url[..schemeEnd].ToLowerInvariant();
        var rest = url[(schemeEnd + 3)..];
        var fragment = rest.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }

        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var queryText = queryStart >= 0 ? rest[(queryStart + 1)..] : "";
        rest = queryStart >= 0 ? rest[..queryStart] : rest;
        var pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = pathStart >= 0 ? rest[..pathStart] : rest;
        var path = pathStart >= 0 ? Uri.UnescapeDataString(rest[pathStart..]) : "";

        string? userInfo = null;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            userInfo = Uri.UnescapeDataString(authority[..at]);
            authority = authority[(at + 1)..];
        }

        string? port = null;
        var colon = authority.LastIndexOf(':');
        if (colon >= 0 && !authority.EndsWith(']'))
        {
            port = authority[(colon + 1)..];
            authority = authority[..colon];
        }

        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        var redacted = Redact.Url(url);
        foreach (var pair in queryText.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
            // Uri.UnescapeDataString leaves '+' alone: base64 in a fingerprint keeps its '+'.
            var value = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : "";
            if (!query.TryAdd(name, value))
            {
                throw new LifeboatException(ErrorCode.Config, $"'{redacted}' gives the parameter '{name}' twice", "give each parameter once");
            }
        }

        return new TargetUrl(url, scheme, userInfo, Uri.UnescapeDataString(authority), port, path, query);
    }

    /// <summary>Refuses parameters other than <paramref name="known"/>.</summary>
    public void AllowOnly(params string[] known)
    {
        foreach (var name in _query.Keys)
        {
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                throw Error(
                    $"'{Redacted}' has the unknown parameter '{name}'",
                    $"{Scheme} URLs take {string.Join(", ", known.Select(k => $"'{k}'"))}; a secret never goes in a URL (docs/configuration.md lists where credentials come from)");
            }
        }
    }

    /// <summary>The parameter's value, or null when absent. An empty value is an error.</summary>
    public string? Get(string name)
    {
        if (!_query.TryGetValue(name, out var value))
        {
            return null;
        }

        if (value.Length == 0)
        {
            throw Error($"'{Redacted}' gives the parameter '{name}' no value", $"write {name}=VALUE, or leave the parameter out");
        }

        return value;
    }

    public bool GetBool(string name)
    {
        var value = Get(name);
        return value switch
        {
            null or "false" => false,
            "true" => true,
            _ => throw Error($"'{Redacted}': {name}={value} is neither true nor false", $"write {name}=true or {name}=false"),
        };
    }

    /// <summary>An absolute http(s) URL given as a parameter (an endpoint).</summary>
    public Uri? GetHttpUrl(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            throw Error($"'{Redacted}': {name}={Redact.Url(value)} is not an http:// or https:// URL", $"write {name}=https://host[:port]");
        }

        if (uri.UserInfo.Length > 0 || uri.Query.Length > 0)
        {
            throw Error($"'{Redacted}': {name} must name only a server (scheme, host, port, path), not credentials or a query", $"write {name}=https://host[:port]");
        }

        return uri;
    }

    /// <summary>The port, or <paramref name="defaultPort"/> when the URL names none.</summary>
    public int Port(int defaultPort)
    {
        if (PortText is null)
        {
            return defaultPort;
        }

        if (!int.TryParse(PortText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            throw Error($"'{Redacted}' names the port '{PortText}', which is not a number from 1 to 65535", $"write {Scheme}://host:PORT/…");
        }

        return port;
    }

    /// <summary>The path without leading and trailing '/', as an object name prefix ("" for none).</summary>
    public string Prefix()
    {
        var prefix = Path.Trim('/');
        if (prefix.Contains("//", StringComparison.Ordinal) || prefix.Split('/').Any(p => p is "." or ".."))
        {
            throw Error($"'{Redacted}' has the path '{Path}' with an empty, '.' or '..' part", "write the prefix as a/b/c");
        }

        return prefix;
    }

    public LifeboatException Error(string message, string hint) => new(ErrorCode.Config, message, hint);
}
