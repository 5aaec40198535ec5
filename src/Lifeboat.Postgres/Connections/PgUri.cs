using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Lifeboat.Postgres.Connections;

/// <summary>
/// libpq's connection URI (conninfo_uri_parse_options):
/// <c>postgresql://[user[:password]@][host[:port][,host[:port]]...][/dbname][?keyword=value[&amp;...]]</c>. Every part is
/// percent-decoded (a socket directory is written <c>%2Fvar%2Frun%2Fpostgresql</c>); an IPv6 address is bracketed;
/// <c>?ssl=true</c> means sslmode=require; any other parameter is a libpq keyword.
/// </summary>
internal static class PgUri
{
    public const string Scheme = "postgresql://";
    public const string ShortScheme = "postgres://";

    public static bool TryParse(string text, [NotNullWhen(true)] out Dictionary<string, string>? settings, [NotNullWhen(false)] out string? error)
    {
        settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var rest = text.StartsWith(Scheme, StringComparison.Ordinal) ? text[Scheme.Length..] : text[ShortScheme.Length..];

        // user[:password]@ — the first '@' before any '/'.
        var end = rest.IndexOfAny(['@', '/']);
        if (end >= 0 && rest[end] == '@')
        {
            var userInfo = rest[..end];
            rest = rest[(end + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            var user = colon < 0 ? userInfo : userInfo[..colon];
            if (user.Length > 0 && !Store("user", user, settings, out error))
            {
                return Fail(out settings);
            }

            if (colon >= 0 && !Store("password", userInfo[(colon + 1)..], settings, out error))
            {
                return Fail(out settings);
            }
        }

        // host[:port][,host[:port]]...
        var hosts = new List<string>();
        var ports = new List<string>();
        var i = 0;
        while (true)
        {
            string host;
            if (i < rest.Length && rest[i] == '[')
            {
                var close = rest.IndexOf(']', i);
                if (close < 0)
                {
                    error = $"the IPv6 address in \"{rest[i..]}\" has no closing \"]\"";
                    return Fail(out settings);
                }

                host = rest[(i + 1)..close];
                if (host.Length == 0)
                {
                    error = "an IPv6 address in brackets may not be empty";
                    return Fail(out settings);
                }

                i = close + 1;
            }
            else
            {
                var start = i;
                while (i < rest.Length && rest[i] is not (':' or '/' or '?' or ','))
                {
                    i++;
                }

                host = rest[start..i];
            }

            var port = "";
            if (i < rest.Length && rest[i] == ':')
            {
                var start = ++i;
                while (i < rest.Length && rest[i] is not ('/' or '?' or ','))
                {
                    i++;
                }

                port = rest[start..i];
            }

            if (!Decode(host, out var decodedHost, out error) || !Decode(port, out var decodedPort, out error))
            {
                return Fail(out settings);
            }

            hosts.Add(decodedHost);
            ports.Add(decodedPort);
            if (i < rest.Length && rest[i] == ',')
            {
                i++;
                continue;
            }

            break;
        }

        if (i < rest.Length && rest[i] is not ('/' or '?'))
        {
            error = $"unexpected \"{rest[i]}\" after the host list in the URI";
            return Fail(out settings);
        }

        if (hosts.Any(h => h.Length > 0) && !Store("host", string.Join(',', hosts), settings, out error))
        {
            return Fail(out settings);
        }

        if (ports.Any(p => p.Length > 0) && !Store("port", string.Join(',', ports), settings, out error))
        {
            return Fail(out settings);
        }

        rest = rest[i..];
        if (rest.StartsWith('/'))
        {
            var q = rest.IndexOf('?', StringComparison.Ordinal);
            var db = q < 0 ? rest[1..] : rest[1..q];
            rest = q < 0 ? "" : rest[q..];
            if (db.Length > 0)
            {
                if (!Decode(db, out var decoded, out error) || !Store("dbname", decoded, settings, out error))
                {
                    return Fail(out settings);
                }
            }
        }

        if (rest.StartsWith('?'))
        {
            foreach (var pair in rest[1..].Split('&'))
            {
                if (pair.Length == 0)
                {
                    continue;
                }

                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0)
                {
                    error = $"the URI parameter \"{pair}\" has no \"=\"";
                    return Fail(out settings);
                }

                if (pair.IndexOf('=', eq + 1) >= 0)
                {
                    error = $"the URI parameter \"{pair}\" has a second \"=\" (percent-encode it as %3D)";
                    return Fail(out settings);
                }

                if (!Decode(pair[..eq], out var key, out error) || !Decode(pair[(eq + 1)..], out var value, out error))
                {
                    return Fail(out settings);
                }

                if (key == "ssl")
                {
                    if (value != "true")
                    {
                        error = $"the URI parameter ssl=\"{value}\" is not valid (only ssl=true, which means sslmode=require)";
                        return Fail(out settings);
                    }

                    (key, value) = ("sslmode", "require");
                }

                if (PgKeywords.Find(key) is null)
                {
                    var near = Core.Nearest.Match(key, PgKeywords.Names);
                    error = $"unknown URI parameter \"{key}\"" + (near is null ? "" : $" (did you mean \"{near}\"?)");
                    return Fail(out settings);
                }

                if (!Store(key, value, settings, out error))
                {
                    return Fail(out settings);
                }
            }
        }

        error = null;
        return true;
    }

    private static bool Store(string keyword, string value, Dictionary<string, string> settings, [NotNullWhen(false)] out string? error)
    {
        if (keyword is "user" or "password")
        {
            if (!Decode(value, out var decoded, out error))
            {
                return false;
            }

            value = decoded;
        }

        return PgConnectionString.Accept(keyword, value, settings, out error);
    }

    private static bool Fail(out Dictionary<string, string>? settings)
    {
        settings = null;
        return false;
    }

    /// <summary>Percent-decoding as libpq does it: %XX is a byte (UTF-8 together), %00 is refused, '+' stays '+'.</summary>
    private static bool Decode(string text, out string decoded, [NotNullWhen(false)] out string? error)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            decoded = text;
            error = null;
            return true;
        }

        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                var next = text.IndexOf('%', i);
                var run = next < 0 ? text[i..] : text[i..next];
                bytes.AddRange(Encoding.UTF8.GetBytes(run));
                i += run.Length - 1;
                continue;
            }

            if (i + 2 >= text.Length || !IsHex(text[i + 1]) || !IsHex(text[i + 2]))
            {
                decoded = "";
                error = $"invalid percent-encoding \"{text[i..Math.Min(text.Length, i + 3)]}\" in \"{text}\" (write % as %25)";
                return false;
            }

            var b = Convert.ToByte(text.Substring(i + 1, 2), 16);
            if (b == 0)
            {
                decoded = "";
                error = $"%00 is not allowed in \"{text}\"";
                return false;
            }

            bytes.Add(b);
            i += 2;
        }

        decoded = Encoding.UTF8.GetString(bytes.ToArray());
        error = null;
        return true;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
