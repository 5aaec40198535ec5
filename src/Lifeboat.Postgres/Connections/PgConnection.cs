using System.Globalization;
using Lifeboat.Core;
using Npgsql;

namespace Lifeboat.Postgres.Connections;

/// <summary>One server to try: a host name, IP address or socket directory, its port, and the address to dial instead (libpq's hostaddr).</summary>
public sealed record PgHost(string Host, string Port, string? Address = null)
{
    public bool IsSocket => Host.StartsWith('/');

    /// <summary>What Npgsql connects to.</summary>
    public string Target => Address is { Length: > 0 } a ? a : Host;

    public override string ToString() => (Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host) + ":" + Port;
}

/// <summary>
/// What libpq would connect with (conninfo_add_defaults, then the password file): the settings given, then the
/// service's (a <c>service</c> keyword or PGSERVICE; see <see cref="PgServiceFile"/>), then the PG* environment
/// variables, then libpq's defaults (the default socket directory, port 5432, the OS user, a database named like the
/// user), and a password from PGPASSWORD or the password file (passfile, PGPASSFILE, ~/.pgpass) when none was given.
/// From it come Npgsql's connection string (<see cref="ToNpgsql"/>) and the environment of PostgreSQL's programs
/// (<see cref="LibpqEnvironment"/>), so Lifeboat and pg_dump reach the same server as the same user.
/// </summary>
public sealed class PgConnection
{
    private static readonly IReadOnlyDictionary<string, string?> NoEnvironment = new Dictionary<string, string?>();

    private readonly PgConnectionString _given;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly Dictionary<string, string> _settings;

    private PgConnection(PgConnectionString given, IReadOnlyDictionary<string, string?> environment, Dictionary<string, string> settings, IReadOnlyList<PgHost> hosts, string user, string database, string? password)
    {
        _given = given;
        _environment = environment;
        _settings = settings;
        Hosts = hosts;
        User = user;
        Database = database;
        Password = password is null ? null : new Secret(password);
    }

    /// <summary>
    /// Where libpq looks for a server when no host is given: Debian's libpq is built with /var/run/postgresql, upstream's
    /// with /tmp; the first that exists.
    /// </summary>
    public static string DefaultSocketDirectory { get; } = Directory.Exists("/var/run/postgresql") ? "/var/run/postgresql" : "/tmp";

    public IReadOnlyList<PgHost> Hosts { get; }

    public string User { get; }

    public string Database { get; }

    /// <summary>Whether a database was named (string, service file or PGDATABASE), rather than libpq's default (the user's name).</summary>
    public bool DatabaseGiven => _settings.GetValueOrDefault("dbname") is { Length: > 0 };

    public Secret? Password { get; }

    /// <summary>Every libpq setting in force, after the service file and the environment (no password).</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    /// <summary>user@host:port (every host, comma-separated), for messages; never the password.</summary>
    public string Display => $"{User}@{string.Join(',', Hosts)}";

    /// <summary>Reads and resolves <paramref name="text"/> (any form) with <paramref name="environment"/>; see <see cref="PgConnectionString.Parse"/>.</summary>
    public static PgConnection Resolve(string text, IReadOnlyDictionary<string, string?> environment, string what = "the connection string")
        => PgConnectionString.Parse(text, what).Resolve(environment);

    /// <summary>This process's environment, for a connection string with no workspace around it.</summary>
    public static IReadOnlyDictionary<string, string?> ProcessVariables()
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            variables[(string)e.Key] = e.Value as string;
        }

        return variables;
    }

    /// <summary>A connection string Lifeboat made itself (a scratch server on loopback): no PG* variable, service or password file applies.</summary>
    public static PgConnection Own(string text) => PgConnectionString.Parse(text).Resolve(NoEnvironment);

    /// <summary>The home directory libpq uses for ~/.pgpass and ~/.pg_service.conf: HOME, else the user's entry in the password database.</summary>
    public static string? Home(IReadOnlyDictionary<string, string?> environment)
    {
        if (ReferenceEquals(environment, NoEnvironment))
        {
            return null;
        }

        if (environment.GetValueOrDefault("HOME") is { Length: > 0 } home)
        {
            return home;
        }

        var profile = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return profile.Length > 0 ? profile : null;
    }

    /// <summary>The same server and user, another database (the password file is consulted again for it).</summary>
    public PgConnection WithDatabase(string database) => Resolve(_given.With("dbname", database), _environment);

    internal static PgConnection Resolve(PgConnectionString given, IReadOnlyDictionary<string, string?> environment)
    {
        var settings = new Dictionary<string, string>(given.Settings, StringComparer.Ordinal);
        var service = settings.GetValueOrDefault("service") ?? environment.GetValueOrDefault("PGSERVICE");
        settings.Remove("service");
        if (!string.IsNullOrEmpty(service))
        {
            foreach (var (k, v) in PgServiceFile.Read(service, environment))
            {
                settings.TryAdd(k, v);
            }
        }

        foreach (var keyword in PgKeywords.All)
        {
            if (keyword.Variable is { } variable && keyword.Name != "service" && !settings.ContainsKey(keyword.Name)
                && environment.GetValueOrDefault(variable) is { Length: > 0 } value
                && !PgConnectionString.Accept(keyword.Name, value, settings, out var error))
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"the environment variable {variable} is not valid: {error}", $"correct or unset {variable}");
            }
        }

        if (settings.Remove("requiressl", out var requireSsl) && requireSsl == "1")
        {
            settings.TryAdd("sslmode", "require");
        }

        var hosts = HostList(settings);
        var user = settings.GetValueOrDefault("user") is { Length: > 0 } u ? u : Environment.UserName;
        var database = settings.GetValueOrDefault("dbname") is { Length: > 0 } d ? d : user;
        var password = settings.GetValueOrDefault("password");
        settings.Remove("password");
        if (password is null)
        {
            var passfile = settings.GetValueOrDefault("passfile") ?? (Home(environment) is { } home ? Path.Combine(home, ".pgpass") : null);
            var first = hosts[0];
            password = passfile is null ? null : PgPassFile.Find(passfile, first.Address is { Length: > 0 } && first.Host.Length == 0 ? first.Address : first.Host, first.Port, database, user);
        }

        return new PgConnection(given, environment, settings, hosts, user, database, password);
    }

    /// <summary>libpq's lists: host, hostaddr and port, each one value for all or one per server.</summary>
    private static List<PgHost> HostList(Dictionary<string, string> settings)
    {
        var hosts = settings.GetValueOrDefault("host")?.Split(',') ?? [];
        var addresses = settings.GetValueOrDefault("hostaddr")?.Split(',') ?? [];
        var ports = settings.GetValueOrDefault("port")?.Split(',') ?? [];
        if (hosts.Length > 0 && addresses.Length > 0 && hosts.Length != addresses.Length)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the connection names {hosts.Length} hosts but {addresses.Length} host addresses", "give one hostaddr per host, or leave hostaddr out");
        }

        var count = Math.Max(1, Math.Max(hosts.Length, addresses.Length));
        if (ports.Length > 1 && ports.Length != count)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"the connection names {count} host(s) but {ports.Length} ports", "give one port for all hosts, or one per host");
        }

        var list = new List<PgHost>(count);
        for (var i = 0; i < count; i++)
        {
            var host = i < hosts.Length ? hosts[i] : "";
            var address = i < addresses.Length ? addresses[i] : null;
            var port = ports.Length == 0 ? "" : ports.Length == 1 ? ports[0] : ports[i];
            if (host.Length == 0 && string.IsNullOrEmpty(address))
            {
                host = DefaultSocketDirectory;
            }

            list.Add(new PgHost(host, port.Length == 0 ? "5432" : port, string.IsNullOrEmpty(address) ? null : address));
        }

        return list;
    }

    /// <summary>
    /// Npgsql's connection string for this connection: application name "lifeboat" unless one was given, a 15 s connect
    /// timeout unless connect_timeout says otherwise. libpq-only settings (<see cref="PgKeywordUse.LibpqOnly"/>) are left
    /// out; target_session_attrs is given to Npgsql only with several hosts (Npgsql refuses it for one).
    /// </summary>
    public NpgsqlConnectionStringBuilder ToNpgsql()
    {
        var b = new NpgsqlConnectionStringBuilder();
        foreach (var (k, v) in _given.NpgsqlOnly)
        {
            b[k] = v;
        }

        if (Hosts.Count == 1)
        {
            b.Host = Hosts[0].Target;
            b.Port = int.Parse(Hosts[0].Port, CultureInfo.InvariantCulture);
        }
        else
        {
            b.Host = string.Join(',', Hosts.Select(h => (h.Target.Contains(':', StringComparison.Ordinal) ? "[" + h.Target + "]" : h.Target) + ":" + h.Port));
        }

        b.Username = User;
        b.Database = Database;
        if (Password is { } password)
        {
            b.Password = password.Reveal();
        }

        b.ApplicationName = _settings.GetValueOrDefault("application_name") ?? _settings.GetValueOrDefault("fallback_application_name") ?? "lifeboat";
        b.Timeout = _settings.GetValueOrDefault("connect_timeout") is { } t ? Math.Clamp(int.Parse(t, CultureInfo.InvariantCulture), 0, 1024) : 15;
        foreach (var (keyword, value) in _settings)
        {
            Apply(b, keyword, value);
        }

        return b;
    }

    private void Apply(NpgsqlConnectionStringBuilder b, string keyword, string value)
    {
        switch (keyword)
        {
            case "sslmode":
                b.SslMode = Enum.Parse<SslMode>(value.Replace("-", "", StringComparison.Ordinal), ignoreCase: true);
                break;
            case "sslcert":
                b.SslCertificate = value;
                break;
            case "sslkey":
                b.SslKey = value;
                break;
            case "sslpassword":
                b.SslPassword = value;
                break;
            case "sslrootcert":
                b.RootCertificate = value;
                break;
            case "sslnegotiation":
                b.SslNegotiation = Enum.Parse<SslNegotiation>(value, ignoreCase: true);
                break;
            case "channel_binding":
                b.ChannelBinding = Enum.Parse<ChannelBinding>(value, ignoreCase: true);
                break;
            case "gssencmode":
                b.GssEncryptionMode = Enum.Parse<GssEncryptionMode>(value, ignoreCase: true);
                break;
            case "krbsrvname":
                b.KerberosServiceName = value;
                break;
            case "require_auth":
                b.RequireAuth = value;
                break;
            case "client_encoding":
                b.ClientEncoding = value;
                break;
            case "options":
                b.Options = value;
                break;
            case "target_session_attrs" when Hosts.Count > 1:
                b.TargetSessionAttributes = value;
                break;
            case "load_balance_hosts":
                b.LoadBalanceHosts = value == "random";
                break;
            case "keepalives":
                b.TcpKeepAlive = value == "1";
                break;
            case "keepalives_idle":
                b.TcpKeepAliveTime = int.Parse(value, CultureInfo.InvariantCulture);
                break;
            case "keepalives_interval":
                b.TcpKeepAliveInterval = int.Parse(value, CultureInfo.InvariantCulture);
                break;
        }
    }

    /// <summary>
    /// The environment for PostgreSQL's programs (pg_dump, pg_restore, psql) to reach this server as this user: every
    /// libpq variable set from the resolved settings, the others emptied (<see cref="Tools.ProcessRunner"/> removes an
    /// empty variable) so that nothing inherited — a PGSERVICE whose settings would override these — changes where
    /// they connect. The password goes in PGPASSWORD, never on a command line.
    /// </summary>
    public Dictionary<string, string> LibpqEnvironment(string? database = null)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyword in PgKeywords.All)
        {
            if (keyword.Variable is { } variable)
            {
                env[variable] = keyword.Name is "host" or "hostaddr" or "port" or "user" or "dbname" or "password" ? "" : _settings.GetValueOrDefault(keyword.Name) ?? "";
            }
        }

        env["PGSERVICEFILE"] = "";
        env["PGHOST"] = string.Join(',', Hosts.Select(h => h.Host));
        if (Hosts.Any(h => h.Address is not null))
        {
            env["PGHOSTADDR"] = string.Join(',', Hosts.Select(h => h.Address ?? ""));
        }

        env["PGPORT"] = string.Join(',', Hosts.Select(h => h.Port));
        env["PGUSER"] = User;
        env["PGDATABASE"] = database ?? Database;
        if (Password is { } password)
        {
            env["PGPASSWORD"] = password.Reveal();
        }

        env["PGAPPNAME"] = _settings.GetValueOrDefault("application_name") ?? _settings.GetValueOrDefault("fallback_application_name") ?? "lifeboat";
        env["PGCONNECT_TIMEOUT"] = _settings.GetValueOrDefault("connect_timeout") ?? "15";
        return env;
    }
}
