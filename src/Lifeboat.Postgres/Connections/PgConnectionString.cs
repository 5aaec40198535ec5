using System.Diagnostics.CodeAnalysis;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Connections;

/// <summary>How a connection string was written.</summary>
public enum PgConnectionForm
{
    /// <summary>libpq's <c>host=/var/run/postgresql port=5432 dbname=shop</c> (psql, pg_dump, Barman's conninfo).</summary>
    KeywordValue,

    /// <summary>libpq's <c>postgresql://user@host:5432/shop?sslmode=require</c> (also <c>postgres://</c>).</summary>
    Uri,

    /// <summary>Npgsql's <c>Host=/var/run/postgresql;Username=postgres;Database=shop</c>.</summary>
    Npgsql,
}

/// <summary>
/// A PostgreSQL connection string as the user wrote it, in any of the three forms PostgreSQL users write
/// (<see cref="PgConnectionForm"/>), read into libpq's keywords. This is the one parser of connection strings:
/// <see cref="Resolve"/> then adds what libpq takes from elsewhere (a service file, PG* variables, defaults, the
/// password file) and gives what Npgsql and PostgreSQL's programs are handed.
/// </summary>
public sealed class PgConnectionString
{
    /// <summary>What every "not valid" message suggests.</summary>
    public const string Forms = "write it as libpq does (host=/var/run/postgresql port=5432 user=postgres dbname=app), as a URI (postgresql://user@host:5432/app?sslmode=require) or in Npgsql's form (Host=...;Username=...;Database=...)";

    private readonly Dictionary<string, string> _settings;
    private readonly Dictionary<string, string> _npgsqlOnly;

    private PgConnectionString(PgConnectionForm form, Dictionary<string, string> settings, Dictionary<string, string> npgsqlOnly)
    {
        Form = form;
        _settings = settings;
        _npgsqlOnly = npgsqlOnly;
    }

    public PgConnectionForm Form { get; }

    /// <summary>The libpq keywords given, with their values (a URI's percent-encoding and quoting already undone).</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    /// <summary>Npgsql settings libpq has no keyword for (Npgsql form only: Pooling, Include Error Detail…), passed to Npgsql as they are.</summary>
    public IReadOnlyDictionary<string, string> NpgsqlOnly => _npgsqlOnly;

    /// <summary>The value of a libpq keyword, or null.</summary>
    public string? this[string keyword] => _settings.GetValueOrDefault(keyword);

    /// <summary>
    /// Reads <paramref name="text"/>; a malformed string is exit 2 (<see cref="ErrorCode.InvalidInput"/>) with a message
    /// that names the bad part, starting with <paramref name="what"/> (e.g. "«conn»").
    /// </summary>
    public static PgConnectionString Parse(string text, string what = "the connection string", ErrorCode code = ErrorCode.InvalidInput)
        => TryParse(text, out var parsed, out var error)
            ? parsed
            : throw new LifeboatException(code, $"{what} is not a valid PostgreSQL connection string: {error}", Forms);

    /// <summary>
    /// Reads <paramref name="text"/>. A string starting with <c>postgresql://</c> or <c>postgres://</c> is a URI; one with
    /// a ';' outside quotes is read in Npgsql's form first, then in libpq's; any other in libpq's keyword/value form, or
    /// in Npgsql's when its first keyword is not libpq's (<c>Host=db</c>). The first form's error is the one reported.
    /// </summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out PgConnectionString? parsed, [NotNullWhen(false)] out string? error)
    {
        var trimmed = text.Trim();
        if (trimmed.StartsWith(PgUri.Scheme, StringComparison.Ordinal) || trimmed.StartsWith(PgUri.ShortScheme, StringComparison.Ordinal))
        {
            return Done(PgConnectionForm.Uri, PgUri.TryParse(trimmed, out var uri, out error) ? uri : null, out parsed);
        }

        if (HasSemicolon(trimmed))
        {
            if (NpgsqlForm.TryParse(trimmed, out var n, out var extra, out error))
            {
                parsed = new PgConnectionString(PgConnectionForm.Npgsql, n, extra);
                return true;
            }

            if (TryKeywordValue(trimmed, out var kv, out _))
            {
                parsed = new PgConnectionString(PgConnectionForm.KeywordValue, kv, []);
                error = null;
                return true;
            }

            parsed = null;
            return false;
        }

        if (TryKeywordValue(trimmed, out var keywords, out error))
        {
            parsed = new PgConnectionString(PgConnectionForm.KeywordValue, keywords, []);
            return true;
        }

        // One Npgsql pair ("Host=db", "Server=db") reads as a libpq string whose first keyword is unknown; anything
        // else that libpq refuses is a malformed libpq string, not an Npgsql one ("host=/tmp port=x" is not Host="/tmp port=x").
        var first = trimmed.Split('=', 2)[0].Trim();
        if (PgKeywords.Find(first) is null && NpgsqlForm.TryParse(trimmed, out var npgsql, out var npgsqlOnly, out _))
        {
            parsed = new PgConnectionString(PgConnectionForm.Npgsql, npgsql, npgsqlOnly);
            error = null;
            return true;
        }

        parsed = null;
        return false;
    }

    private static bool Done(PgConnectionForm form, Dictionary<string, string>? settings, out PgConnectionString? parsed)
    {
        parsed = settings is null ? null : new PgConnectionString(form, settings, []);
        return parsed is not null;
    }

    /// <summary>The same connection with one keyword set (null: removed), e.g. another database.</summary>
    public PgConnectionString With(string keyword, string? value)
    {
        var settings = new Dictionary<string, string>(_settings, StringComparer.Ordinal);
        if (value is null)
        {
            settings.Remove(keyword);
        }
        else
        {
            settings[keyword] = value;
        }

        return new PgConnectionString(Form, settings, _npgsqlOnly);
    }

    /// <summary>What libpq would connect with, given <paramref name="environment"/> (PG* variables, HOME): see <see cref="PgConnection"/>.</summary>
    public PgConnection Resolve(IReadOnlyDictionary<string, string?> environment) => PgConnection.Resolve(this, environment);

    /// <summary>libpq's keyword/value form of these settings (values quoted where needed); the password is left out.</summary>
    public override string ToString()
        => string.Join(' ', _settings.Where(kv => kv.Key != "password").Select(kv => kv.Key + "=" + Quote(kv.Value)));

    /// <summary>A value as libpq's keyword/value form writes it: bare when it can be, else single-quoted with \ escapes.</summary>
    public static string Quote(string value)
        => value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '\'' or '\\')
            ? value
            : "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>A ';' outside single or double quotes: Npgsql's separator.</summary>
    private static bool HasSemicolon(string text)
    {
        char? quote = null;
        foreach (var c in text)
        {
            if (quote is { } q)
            {
                if (c == q)
                {
                    quote = null;
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == ';')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// libpq's conninfo_parse: <c>keyword = value</c> pairs separated by whitespace; a value is bare (to the next
    /// whitespace) or single-quoted; a backslash escapes the next character in both. Keywords are case-sensitive.
    /// </summary>
    internal static bool TryKeywordValue(string text, [NotNullWhen(true)] out Dictionary<string, string>? settings, [NotNullWhen(false)] out string? error)
    {
        settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                error = null;
                return true;
            }

            var start = i;
            while (i < text.Length && text[i] != '=' && !char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var keyword = text[start..i];
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            if (i == text.Length || text[i] != '=')
            {
                settings = null;
                error = $"missing \"=\" after \"{keyword}\"";
                return false;
            }

            i++;
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }

            var value = new StringBuilder();
            if (i < text.Length && text[i] == '\'')
            {
                i++;
                var closed = false;
                while (i < text.Length)
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        value.Append(text[i + 1]);
                        i += 2;
                    }
                    else if (text[i] == '\'')
                    {
                        i++;
                        closed = true;
                        break;
                    }
                    else
                    {
                        value.Append(text[i++]);
                    }
                }

                if (!closed)
                {
                    settings = null;
                    error = $"the quoted value of \"{keyword}\" has no closing quote (')";
                    return false;
                }
            }
            else
            {
                while (i < text.Length && !char.IsWhiteSpace(text[i]))
                {
                    if (text[i] == '\\' && i + 1 < text.Length)
                    {
                        i++;
                    }

                    value.Append(text[i++]);
                }
            }

            if (!Accept(keyword, value.ToString(), settings, out error))
            {
                settings = null;
                return false;
            }
        }
    }

    /// <summary>Checks a libpq keyword (known, not refused) and a value, and stores it; a later value of a keyword wins, as in libpq.</summary>
    internal static bool Accept(string keyword, string value, Dictionary<string, string> settings, [NotNullWhen(false)] out string? error)
    {
        var known = PgKeywords.Find(keyword);
        if (known is null)
        {
            var near = Nearest.Match(keyword, PgKeywords.Names);
            error = $"unknown connection option \"{keyword}\"" + (near is null ? "" : $" (did you mean \"{near}\"?)");
            return false;
        }

        if (known.Use == PgKeywordUse.Refused)
        {
            error = $"the option \"{keyword}\" is not supported: Lifeboat's own connections (Npgsql) cannot honour it, and ignoring it would weaken the connection";
            return false;
        }

        if (!CheckValue(keyword, value, out error))
        {
            return false;
        }

        settings[keyword] = value;
        return true;
    }

    private static readonly Dictionary<string, string[]> Choices = new(StringComparer.Ordinal)
    {
        ["sslmode"] = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
        ["channel_binding"] = ["disable", "prefer", "require"],
        ["gssencmode"] = ["disable", "prefer", "require"],
        ["sslnegotiation"] = ["postgres", "direct"],
        ["target_session_attrs"] = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"],
        ["load_balance_hosts"] = ["disable", "random"],
        ["keepalives"] = ["0", "1"],
        ["requiressl"] = ["0", "1"],
    };

    private static bool CheckValue(string keyword, string value, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (Choices.TryGetValue(keyword, out var allowed) && !allowed.Contains(value, StringComparer.Ordinal))
        {
            error = $"invalid {keyword} value \"{value}\" (use {string.Join(", ", allowed)})";
        }
        else if (keyword == "port")
        {
            foreach (var port in value.Split(','))
            {
                if (port.Length > 0 && !(int.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536))
                {
                    error = $"invalid port \"{port}\" (a number from 1 to 65535)";
                    break;
                }
            }
        }
        else if (keyword is "connect_timeout" or "keepalives_idle" or "keepalives_interval" or "keepalives_count" or "tcp_user_timeout"
                 && !int.TryParse(value, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            error = $"invalid integer value \"{value}\" for \"{keyword}\"";
        }

        return error is null;
    }
}
