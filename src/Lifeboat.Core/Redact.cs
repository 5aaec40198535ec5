using System.Text.RegularExpressions;

namespace Lifeboat.Core;

/// <summary>
/// Removes secrets from text that is about to be printed or logged: passwords in URLs and in
/// PostgreSQL connection strings, and query parameters that carry credentials.
/// </summary>
public static partial class Redact
{
    /// <summary>`scheme://user:password@host` → `scheme://user:***@host`; credential query parameters → `***`.</summary>
    public static string Url(string url)
    {
        var s = UserInfoPassword().Replace(url, "$1***@");
        return SecretQuery().Replace(s, "$1***");
    }

    /// <summary>Masks <c>Password=…</c> in a libpq/Npgsql connection string and passwords in postgres:// URIs.</summary>
    public static string ConnectionString(string connectionString)
    {
        var s = ConnPassword().Replace(connectionString, "$1***");
        return Url(s);
    }

    // The password runs to the last '@' before the host: people paste passwords with unescaped '@' and '/' (AWS secret
    // keys contain '/'), and stopping at the first one would print the rest of the secret. The host after that '@' holds
    // no '@' or '/'. Masking too much (a path containing '@' after host:port) is the safe way to be wrong.
    [GeneratedRegex(@"(://[^/:@\s]+:)\S*?@(?=[^@/\s]*(?:/|\s|$))", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfoPassword();

    [GeneratedRegex(@"([?&](?:password|passwd|secret|sig|token|sas|access[_-]?key|secret[_-]?key|accountkey)=)[^&\s]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretQuery();

    // The value is double-quoted (Npgsql, "" escapes a quote), single-quoted (libpq \' or Npgsql '' escapes a quote), or bare.
    // A bare value ends at ';' or at whitespace followed by the next "keyword=" (libpq), so that an Npgsql password with
    // spaces is masked whole.
    [GeneratedRegex(@"((?:^|;|\s)\s*(?:password|pwd|accountkey|sharedaccesssignature)\s*=\s*)(""(?:[^""]|"""")*""|'(?:[^'\\]|\\.|'')*'|[^;\s]*(?:\s+(?![A-Za-z_][\w ]*=)[^;\s]+)*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ConnPassword();
}
