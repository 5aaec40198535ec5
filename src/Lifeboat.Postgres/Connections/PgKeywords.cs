namespace Lifeboat.Postgres.Connections;

/// <summary>What Lifeboat does with a libpq keyword it accepts.</summary>
internal enum PgKeywordUse
{
    /// <summary>Given to Npgsql (the connection Lifeboat opens) and to libpq (pg_dump, psql, pg_restore).</summary>
    Both,

    /// <summary>Given to libpq only: Npgsql has no such setting and its default is what the keyword usually asks for.</summary>
    LibpqOnly,

    /// <summary>Refused: Npgsql cannot honour it and ignoring it would weaken what the user asked for.</summary>
    Refused,
}

/// <summary>One connection keyword of libpq (PostgreSQL 17's list), its environment variable and what Lifeboat does with it.</summary>
internal sealed record PgKeyword(string Name, string? Variable, PgKeywordUse Use = PgKeywordUse.Both);

/// <summary>The libpq connection keywords (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS).</summary>
internal static class PgKeywords
{
    public static IReadOnlyList<PgKeyword> All { get; } =
    [
        new("host", "PGHOST"),
        new("hostaddr", "PGHOSTADDR"),
        new("port", "PGPORT"),
        new("dbname", "PGDATABASE"),
        new("user", "PGUSER"),
        new("password", "PGPASSWORD"),
        new("passfile", "PGPASSFILE"),
        new("service", "PGSERVICE"),
        new("require_auth", "PGREQUIREAUTH"),
        new("channel_binding", "PGCHANNELBINDING"),
        new("connect_timeout", "PGCONNECT_TIMEOUT"),
        new("client_encoding", "PGCLIENTENCODING"),
        new("options", "PGOPTIONS"),
        new("application_name", "PGAPPNAME"),
        new("fallback_application_name", null),
        new("keepalives", null),
        new("keepalives_idle", null),
        new("keepalives_interval", null),
        new("keepalives_count", null, PgKeywordUse.LibpqOnly),
        new("tcp_user_timeout", null, PgKeywordUse.LibpqOnly),
        new("sslmode", "PGSSLMODE"),
        new("requiressl", "PGREQUIRESSL"),
        new("sslnegotiation", "PGSSLNEGOTIATION"),
        new("sslcompression", "PGSSLCOMPRESSION", PgKeywordUse.LibpqOnly),
        new("sslcert", "PGSSLCERT"),
        new("sslkey", "PGSSLKEY"),
        new("sslpassword", null),
        new("sslcertmode", "PGSSLCERTMODE", PgKeywordUse.Refused),
        new("sslrootcert", "PGSSLROOTCERT"),
        new("sslcrl", "PGSSLCRL", PgKeywordUse.Refused),
        new("sslcrldir", "PGSSLCRLDIR", PgKeywordUse.Refused),
        new("sslsni", "PGSSLSNI", PgKeywordUse.LibpqOnly),
        new("requirepeer", "PGREQUIREPEER", PgKeywordUse.Refused),
        new("ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION", PgKeywordUse.Refused),
        new("ssl_max_protocol_version", "PGSSLMAXPROTOCOLVERSION", PgKeywordUse.Refused),
        new("gssencmode", "PGGSSENCMODE"),
        new("krbsrvname", "PGKRBSRVNAME"),
        new("gsslib", "PGGSSLIB", PgKeywordUse.LibpqOnly),
        new("gssdelegation", "PGGSSDELEGATION", PgKeywordUse.LibpqOnly),
        new("replication", null, PgKeywordUse.Refused),
        new("target_session_attrs", "PGTARGETSESSIONATTRS"),
        new("load_balance_hosts", "PGLOADBALANCEHOSTS"),
    ];

    private static readonly Dictionary<string, PgKeyword> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>libpq's keywords are case-sensitive, lower case.</summary>
    public static PgKeyword? Find(string name) => ByName.GetValueOrDefault(name);

    public static IEnumerable<string> Names => All.Select(k => k.Name);
}
