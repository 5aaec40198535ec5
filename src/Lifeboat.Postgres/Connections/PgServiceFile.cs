using Lifeboat.Core;

namespace Lifeboat.Postgres.Connections;

/// <summary>
/// pg_service.conf, as libpq reads it (parseServiceInfo): the user's file (PGSERVICEFILE, else ~/.pg_service.conf)
/// first, then the system's (PGSYSCONFDIR/pg_service.conf, else Debian's /etc/postgresql-common/pg_service.conf). The
/// first file holding the service wins. A section <c>[name]</c> holds <c>keyword=value</c> lines taken as they are
/// (no quoting, no spaces around '='); '#' starts a comment line.
/// </summary>
public static class PgServiceFile
{
    /// <summary>Where Debian's libpq looks when PGSYSCONFDIR is not set (its compiled-in sysconfdir).</summary>
    public const string DefaultSystemDirectory = "/etc/postgresql-common";

    /// <summary>The service's settings, or an exit-2 error naming the service and the files searched.</summary>
    public static Dictionary<string, string> Read(string service, IReadOnlyDictionary<string, string?> environment)
    {
        var searched = new List<string>();
        foreach (var file in Files(environment))
        {
            searched.Add(file);
            if (File.Exists(file) && TryRead(file, service) is { } settings)
            {
                return settings;
            }
        }

        throw new LifeboatException(ErrorCode.InvalidInput, $"the PostgreSQL service \"{service}\" is not defined (looked in {string.Join(" and ", searched)})", "add a [" + service + "] section to one of those files, set PGSERVICEFILE to the file that has it, or correct the service name");
    }

    private static IEnumerable<string> Files(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.GetValueOrDefault("PGSERVICEFILE") is { Length: > 0 } own)
        {
            yield return own;
        }
        else if (PgConnection.Home(environment) is { } home)
        {
            yield return Path.Combine(home, ".pg_service.conf");
        }

        var system = environment.GetValueOrDefault("PGSYSCONFDIR") is { Length: > 0 } dir ? dir : DefaultSystemDirectory;
        yield return Path.Combine(system, "pg_service.conf");
    }

    private static Dictionary<string, string>? TryRead(string file, string service)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"cannot read the service file {file}: permission denied (user {Environment.UserName})", "make it readable by this user, or set PGSERVICEFILE to a file it can read", ex);
        }

        Dictionary<string, string>? found = null;
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line[0] == '[')
            {
                if (found is not null)
                {
                    break;
                }

                if (line == "[" + service + "]")
                {
                    found = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                continue;
            }

            if (found is null)
            {
                continue;
            }

            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var keyword = eq < 0 ? line : line[..eq];
            if (eq < 0 || keyword == "service" || !PgConnectionString.Accept(keyword, line[(eq + 1)..], found, out _))
            {
                var why = eq < 0 ? "no \"=\"" : keyword == "service" ? "a service may not name another service" : $"\"{keyword}\" is not a valid setting here";
                throw new LifeboatException(ErrorCode.InvalidInput, $"syntax error in the service file {file}, line {n + 1}: {why}", "write keyword=value lines, with libpq's keywords, under [" + service + "]");
            }
        }

        return found;
    }
}
