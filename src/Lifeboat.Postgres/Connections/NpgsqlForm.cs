using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace Lifeboat.Postgres.Connections;

/// <summary>
/// Npgsql's <c>Key=Value;Key=Value</c> form, read into libpq's keywords. Npgsql checks the keys and values (an unknown
/// key is named in its error); the settings libpq also has become its keywords, with its spelling of values
/// (<c>VerifyFull</c> → <c>verify-full</c>); the others (Pooling, Include Error Detail…) stay Npgsql settings.
/// </summary>
internal static class NpgsqlForm
{
    // Npgsql's keys and their aliases, lower case without spaces (as Npgsql compares them), and libpq's keyword.
    private static readonly Dictionary<string, string> ToLibpq = new(StringComparer.Ordinal)
    {
        ["host"] = "host", ["server"] = "host",
        ["port"] = "port",
        ["username"] = "user", ["userid"] = "user", ["uid"] = "user", ["user"] = "user",
        ["password"] = "password", ["psw"] = "password", ["pwd"] = "password",
        ["database"] = "dbname", ["db"] = "dbname",
        ["passfile"] = "passfile",
        ["sslmode"] = "sslmode",
        ["rootcertificate"] = "sslrootcert",
        ["sslcertificate"] = "sslcert",
        ["sslkey"] = "sslkey",
        ["sslpassword"] = "sslpassword",
        ["sslnegotiation"] = "sslnegotiation",
        ["applicationname"] = "application_name",
        ["timeout"] = "connect_timeout",
        ["options"] = "options",
        ["clientencoding"] = "client_encoding",
        ["targetsessionattributes"] = "target_session_attrs",
        ["kerberosservicename"] = "krbsrvname", ["krbsrvname"] = "krbsrvname",
        ["channelbinding"] = "channel_binding",
        ["gssencryptionmode"] = "gssencmode",
        ["loadbalancehosts"] = "load_balance_hosts",
        ["requireauth"] = "require_auth",
        ["tcpkeepalive"] = "keepalives",
        ["tcpkeepalivetime"] = "keepalives_idle",
        ["tcpkeepaliveinterval"] = "keepalives_interval",
    };

    /// <summary>Npgsql's common settings, for "did you mean".</summary>
    private static readonly string[] Known =
    [
        "Host", "Port", "Username", "Password", "Database", "Passfile", "SSL Mode", "Root Certificate", "SSL Certificate", "SSL Key",
        "SSL Password", "Application Name", "Timeout", "Command Timeout", "Options", "Client Encoding", "Target Session Attributes",
        "Kerberos Service Name", "Channel Binding", "Gss Encryption Mode", "Load Balance Hosts", "Require Auth", "Pooling",
        "Keepalive", "Tcp Keepalive", "Include Error Detail", "Search Path",
    ];

    public static bool TryParse(string text, [NotNullWhen(true)] out Dictionary<string, string>? settings, [NotNullWhen(true)] out Dictionary<string, string>? npgsqlOnly, [NotNullWhen(false)] out string? error)
    {
        settings = null;
        npgsqlOnly = null;
        DbConnectionStringBuilder pairs;
        try
        {
            pairs = new DbConnectionStringBuilder { ConnectionString = text };
        }
        catch (ArgumentException ex)
        {
            error = $"not in Npgsql's Key=Value;... form ({ex.Message.Replace(" (Parameter 'connectionString')", "", StringComparison.Ordinal)})";
            return false;
        }

        // Each pair on its own, so that the message names the one Npgsql refuses, as the user wrote it.
        var probe = new NpgsqlConnectionStringBuilder();
        foreach (string key in pairs.Keys)
        {
            var at = text.IndexOf(key, StringComparison.OrdinalIgnoreCase);
            var written = at < 0 ? key : text.Substring(at, key.Length);
            if (!probe.ContainsKey(key))
            {
                var near = Core.Nearest.Match(written, Known);
                error = $"unknown Npgsql setting \"{written}\"" + (near is null ? "" : $" (did you mean \"{near}\"?)");
                return false;
            }

            try
            {
                _ = new NpgsqlConnectionStringBuilder { [key] = pairs[key] };
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                error = $"invalid value \"{pairs[key]}\" for the Npgsql setting \"{written}\"";
                return false;
            }
        }

        settings = new Dictionary<string, string>(StringComparer.Ordinal);
        npgsqlOnly = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? hostList = null;
        foreach (string key in pairs.Keys)
        {
            var value = Convert.ToString(pairs[key], System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (!ToLibpq.TryGetValue(key.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant(), out var keyword))
            {
                npgsqlOnly[key] = value;
                continue;
            }

            if (keyword == "host")
            {
                hostList = value;
                continue;
            }

            value = LibpqValue(keyword, value);
            if (!PgConnectionString.Accept(keyword, value, settings, out error))
            {
                return false;
            }
        }

        if (hostList is not null && !SplitHosts(hostList, settings, out error))
        {
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Npgsql's Host may carry ports ("a:5432,b:5433", "[::1]:5432"): libpq keeps them in host and port lists.</summary>
    private static bool SplitHosts(string list, Dictionary<string, string> settings, [NotNullWhen(false)] out string? error)
    {
        var hosts = new List<string>();
        var ports = new List<string>();
        foreach (var entry in list.Split(','))
        {
            var item = entry.Trim();
            string host = item, port = "";
            if (item.StartsWith('['))
            {
                var close = item.IndexOf(']', StringComparison.Ordinal);
                host = close < 0 ? item : item[1..close];
                if (close >= 0 && close + 1 < item.Length && item[close + 1] == ':')
                {
                    port = item[(close + 2)..];
                }
            }
            else if (!item.StartsWith('/') && item.Count(c => c == ':') == 1)
            {
                var colon = item.IndexOf(':', StringComparison.Ordinal);
                (host, port) = (item[..colon], item[(colon + 1)..]);
            }

            hosts.Add(host);
            ports.Add(port);
        }

        if (ports.Any(p => p.Length > 0))
        {
            var common = settings.GetValueOrDefault("port");
            for (var i = 0; i < ports.Count; i++)
            {
                if (ports[i].Length == 0 && common is not null && !common.Contains(','))
                {
                    ports[i] = common;
                }
            }

            if (!PgConnectionString.Accept("port", string.Join(',', ports), settings, out error))
            {
                return false;
            }
        }

        return PgConnectionString.Accept("host", string.Join(',', hosts), settings, out error);
    }

    private static string LibpqValue(string keyword, string value) => keyword switch
    {
        "sslmode" => value.ToLowerInvariant() switch
        {
            "verifyca" or "verify-ca" => "verify-ca",
            "verifyfull" or "verify-full" => "verify-full",
            var v => v,
        },
        "channel_binding" or "gssencmode" or "sslnegotiation" => value.ToLowerInvariant(),
        "target_session_attrs" => value.ToLowerInvariant(),
        "load_balance_hosts" => bool.TryParse(value, out var random) && random ? "random" : "disable",
        "keepalives" => bool.TryParse(value, out var on) && on ? "1" : "0",
        _ => value,
    };
}
