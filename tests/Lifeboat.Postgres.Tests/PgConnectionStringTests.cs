using Lifeboat.Core;
using Lifeboat.Postgres.Connections;

namespace Lifeboat.Postgres.Tests;

/// <summary>The one parser of connection strings: libpq's keyword/value form, URIs, Npgsql's form, and what libpq adds.</summary>
public sealed class PgConnectionStringTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly IReadOnlyDictionary<string, string?> NoEnv = new Dictionary<string, string?>();

    private static Dictionary<string, string> Parse(string text, PgConnectionForm form)
    {
        var parsed = PgConnectionString.Parse(text);
        Assert.Equal(form, parsed.Form);
        return parsed.Settings.ToDictionary();
    }

    private static string Error(string text)
    {
        var ex = Assert.Throws<LifeboatException>(() => PgConnectionString.Parse(text, "«conn»"));
        Assert.Equal(2, ex.ExitCode);
        Assert.StartsWith("«conn» is not a valid PostgreSQL connection string: ", ex.Message, StringComparison.Ordinal);
        return ex.Message["«conn» is not a valid PostgreSQL connection string: ".Length..];
    }

    [Fact]
    public void Keyword_value_form_is_read_as_libpq_reads_it()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["host"] = "/tmp", ["port"] = "5433", ["user"] = "postgres", ["dbname"] = "shop" },
            Parse("host=/tmp port=5433 user=postgres dbname=shop", PgConnectionForm.KeywordValue));
    }

    [Fact]
    public void Keyword_value_quotes_escapes_and_spaces_around_the_equals_sign()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["password"] = "it's a secret", ["dbname"] = "my db", ["user"] = "a\\b", ["options"] = "" },
            Parse(@"password = 'it\'s a secret'  dbname='my db' user=a\\b options=''", PgConnectionForm.KeywordValue));
    }

    [Fact]
    public void A_later_keyword_wins_as_in_libpq()
        => Assert.Equal("b", Parse("dbname=a dbname=b", PgConnectionForm.KeywordValue)["dbname"]);

    [Fact]
    public void A_password_holding_a_semicolon_is_still_the_keyword_value_form()
        => Assert.Equal("pa;ss", Parse("host=db password=pa;ss", PgConnectionForm.KeywordValue)["password"]);

    [Theory]
    [InlineData("host=/tmp port", "missing \"=\" after \"port\"")]
    [InlineData("host='/tmp", "the quoted value of \"host\" has no closing quote (')")]
    [InlineData("hots=/tmp", "unknown connection option \"hots\" (did you mean \"host\"?)")]
    [InlineData("host=/tmp port=54x32", "invalid port \"54x32\" (a number from 1 to 65535)")]
    [InlineData("host=/tmp port=70000", "invalid port \"70000\" (a number from 1 to 65535)")]
    [InlineData("sslmode=verify", "invalid sslmode value \"verify\" (use disable, allow, prefer, require, verify-ca, verify-full)")]
    [InlineData("connect_timeout=soon", "invalid integer value \"soon\" for \"connect_timeout\"")]
    public void Malformed_keyword_value_strings_name_the_bad_part(string text, string error)
        => Assert.Equal(error, Error(text));

    [Fact]
    public void A_keyword_Lifeboat_cannot_honour_is_refused_not_ignored()
        => Assert.StartsWith("the option \"sslcrl\" is not supported", Error("host=db sslcrl=/etc/crl.pem"), StringComparison.Ordinal);

    [Fact]
    public void Uri_with_user_password_host_port_database_and_parameters()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["user"] = "app", ["password"] = "p@ss/w:rd", ["host"] = "db.example", ["port"] = "5433", ["dbname"] = "shop", ["sslmode"] = "require", ["application_name"] = "my app" },
            Parse("postgresql://app:p%40ss%2Fw:rd@db.example:5433/shop?sslmode=require&application_name=my%20app", PgConnectionForm.Uri));
    }

    [Fact]
    public void Uri_with_a_percent_encoded_socket_directory_and_the_short_scheme()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["host"] = "/var/run/postgresql", ["dbname"] = "shop" },
            Parse("postgres://%2Fvar%2Frun%2Fpostgresql/shop", PgConnectionForm.Uri));
        Assert.Equal(
            new Dictionary<string, string> { ["dbname"] = "shop", ["host"] = "/tmp" },
            Parse("postgresql:///shop?host=/tmp", PgConnectionForm.Uri));
    }

    [Fact]
    public void Uri_with_several_hosts_and_an_IPv6_address()
    {
        Assert.Equal(
            new Dictionary<string, string> { ["host"] = "a,::1,c", ["port"] = "5432,5433,", ["target_session_attrs"] = "read-write" },
            Parse("postgresql://a:5432,[::1]:5433,c/?target_session_attrs=read-write", PgConnectionForm.Uri));
    }

    [Fact]
    public void Uri_ssl_true_means_sslmode_require()
        => Assert.Equal("require", Parse("postgresql://db/?ssl=true", PgConnectionForm.Uri)["sslmode"]);

    [Fact]
    public void Empty_uri_takes_every_default()
        => Assert.Empty(Parse("postgresql://", PgConnectionForm.Uri));

    [Theory]
    [InlineData("postgresql://db/shop?sslmod=require", "unknown URI parameter \"sslmod\" (did you mean \"sslmode\"?)")]
    [InlineData("postgresql://db/shop?sslmode", "the URI parameter \"sslmode\" has no \"=\"")]
    [InlineData("postgresql://db/sh%zzop", "invalid percent-encoding \"%zz\" in \"sh%zzop\" (write % as %25)")]
    [InlineData("postgresql://db/sh%00op", "%00 is not allowed in \"sh%00op\"")]
    [InlineData("postgresql://[::1/shop", "the IPv6 address in \"[::1/shop\" has no closing \"]\"")]
    [InlineData("postgresql://db:5x/shop", "invalid port \"5x\" (a number from 1 to 65535)")]
    [InlineData("postgresql://db/shop?sslmode=sometimes", "invalid sslmode value \"sometimes\" (use disable, allow, prefer, require, verify-ca, verify-full)")]
    public void Malformed_uris_name_the_bad_part(string text, string error)
        => Assert.Equal(error, Error(text));

    [Fact]
    public void Npgsql_form_becomes_libpq_keywords_and_keeps_its_own_settings()
    {
        var parsed = PgConnectionString.Parse("Host=/var/run/postgresql;Port=5433;Username=postgres;Database=shop;SSL Mode=VerifyFull;Pooling=false");
        Assert.Equal(PgConnectionForm.Npgsql, parsed.Form);
        Assert.Equal(
            new Dictionary<string, string> { ["host"] = "/var/run/postgresql", ["port"] = "5433", ["user"] = "postgres", ["dbname"] = "shop", ["sslmode"] = "verify-full" },
            parsed.Settings.ToDictionary());
        Assert.Equal("false", parsed.NpgsqlOnly["Pooling"]);
    }

    [Fact]
    public void Npgsql_form_with_aliases_quotes_and_host_ports()
    {
        var parsed = PgConnectionString.Parse("Server=a:5433,b;User ID=app;Password='x;y';DB=shop");
        Assert.Equal(
            new Dictionary<string, string> { ["host"] = "a,b", ["port"] = "5433,", ["user"] = "app", ["password"] = "x;y", ["dbname"] = "shop" },
            parsed.Settings.ToDictionary());
    }

    [Fact]
    public void One_Npgsql_pair_without_a_semicolon_is_still_Npgsql()
        => Assert.Equal("db", Parse("Host=db", PgConnectionForm.Npgsql)["host"]);

    [Fact]
    public void Malformed_Npgsql_form_names_the_unknown_keyword()
        => Assert.Equal("unknown Npgsql setting \"Hots\" (did you mean \"Host\"?)", Error("Hots=db;Username=x"));

    [Fact]
    public void A_bad_Npgsql_value_is_named()
        => Assert.Equal("invalid value \"abc\" for the Npgsql setting \"Port\"", Error("Host=db;Port=abc"));

    [Fact]
    public void Environment_fills_what_the_string_leaves_out_and_defaults_the_rest()
    {
        var env = new Dictionary<string, string?> { ["PGHOST"] = "envhost", ["PGPORT"] = "6543", ["PGUSER"] = "envuser", ["PGSSLMODE"] = "require", ["PGDATABASE"] = "" };
        var c = PgConnectionString.Parse("host=given").Resolve(env);
        Assert.Equal([new PgHost("given", "6543")], c.Hosts);
        Assert.Equal("envuser", c.User);
        Assert.Equal("envuser", c.Database);
        Assert.Equal("require", c.Settings["sslmode"]);

        var defaults = PgConnectionString.Parse("").Resolve(NoEnv);
        Assert.Equal([new PgHost(PgConnection.DefaultSocketDirectory, "5432")], defaults.Hosts);
        Assert.Equal(Environment.UserName, defaults.User);
        Assert.Equal(Environment.UserName, defaults.Database);
    }

    [Fact]
    public void A_bad_environment_variable_is_named()
    {
        var ex = Assert.Throws<LifeboatException>(() => PgConnectionString.Parse("host=db").Resolve(new Dictionary<string, string?> { ["PGPORT"] = "x" }));
        Assert.Equal("the environment variable PGPORT is not valid: invalid port \"x\" (a number from 1 to 65535)", ex.Message);
        Assert.Equal(2, ex.ExitCode);
    }

    [Fact]
    public void Service_file_settings_come_before_the_environment_and_after_the_string()
    {
        var file = _dir.Combine("services.conf");
        File.WriteAllText(file, "# comment\n[other]\nhost=wrong\n\n  [shop]  \nhost=svc-host\nport=7000\ndbname=svcdb\n[next]\nhost=wrong\n");
        var env = new Dictionary<string, string?> { ["PGSERVICEFILE"] = file, ["PGHOST"] = "envhost", ["PGUSER"] = "envuser" };
        var c = PgConnectionString.Parse("service=shop dbname=given").Resolve(env);
        Assert.Equal([new PgHost("svc-host", "7000")], c.Hosts);
        Assert.Equal("given", c.Database);
        Assert.Equal("envuser", c.User);

        var fromVariable = PgConnectionString.Parse("").Resolve(new Dictionary<string, string?> { ["PGSERVICEFILE"] = file, ["PGSERVICE"] = "shop" });
        Assert.Equal("svcdb", fromVariable.Database);
    }

    [Fact]
    public void The_system_service_file_is_read_when_the_users_lacks_the_service()
    {
        var home = _dir.Dir("home");
        File.WriteAllText(Path.Combine(home, ".pg_service.conf"), "[mine]\nhost=mine\n");
        var sysconf = _dir.Dir("etc");
        File.WriteAllText(Path.Combine(sysconf, "pg_service.conf"), "[shop]\nhost=system-host\n");
        var env = new Dictionary<string, string?> { ["HOME"] = home, ["PGSYSCONFDIR"] = sysconf };
        Assert.Equal("system-host", PgConnectionString.Parse("service=shop").Resolve(env).Hosts[0].Host);
        Assert.Equal("mine", PgConnectionString.Parse("service=mine").Resolve(env).Hosts[0].Host);
    }

    [Fact]
    public void A_missing_service_or_a_bad_service_line_is_exit_2_naming_it()
    {
        var file = _dir.Combine("services.conf");
        File.WriteAllText(file, "[shop]\nhost=a\nhots=b\n");
        var env = new Dictionary<string, string?> { ["PGSERVICEFILE"] = file, ["PGSYSCONFDIR"] = _dir.Dir("etc") };
        var missing = Assert.Throws<LifeboatException>(() => PgConnectionString.Parse("service=nope").Resolve(env));
        Assert.Equal($"the PostgreSQL service \"nope\" is not defined (looked in {file} and {_dir.Combine("etc")}/pg_service.conf)", missing.Message);
        var bad = Assert.Throws<LifeboatException>(() => PgConnectionString.Parse("service=shop").Resolve(env));
        Assert.Equal($"syntax error in the service file {file}, line 3: \"hots\" is not a valid setting here", bad.Message);
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Password_file_is_matched_as_libpq_matches_it()
    {
        var home = _dir.Dir("home");
        var pgpass = Path.Combine(home, ".pgpass");
        File.WriteAllText(pgpass, "# comment\nother:*:*:*:no\ndb:5433:shop:app:first\\:one\nlocalhost:5432:*:app:socket\n*:*:*:app:second\n");
        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var env = new Dictionary<string, string?> { ["HOME"] = home };
        Assert.Equal("first:one", PgConnectionString.Parse("host=db port=5433 dbname=shop user=app").Resolve(env).Password?.Reveal());
        Assert.Equal("second", PgConnectionString.Parse("host=db port=5432 dbname=shop user=app").Resolve(env).Password?.Reveal());
        Assert.Equal("socket", PgConnectionString.Parse($"host={PgConnection.DefaultSocketDirectory} user=app").Resolve(env).Password?.Reveal());
        Assert.Null(PgConnectionString.Parse("host=db user=nobody").Resolve(env).Password);
        Assert.Equal("given", PgConnectionString.Parse("host=db user=app password=given").Resolve(env).Password?.Reveal());
        Assert.Equal("fromenv", PgConnectionString.Parse("host=db user=app").Resolve(new Dictionary<string, string?> { ["HOME"] = home, ["PGPASSWORD"] = "fromenv" }).Password?.Reveal());

        var elsewhere = _dir.Combine("passfile");
        File.WriteAllText(elsewhere, "*:*:*:*:from-passfile\n");
        File.SetUnixFileMode(elsewhere, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal("from-passfile", PgConnectionString.Parse("host=db user=app").Resolve(new Dictionary<string, string?> { ["HOME"] = home, ["PGPASSFILE"] = elsewhere }).Password?.Reveal());

        // libpq ignores a password file others may read.
        File.SetUnixFileMode(pgpass, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.Null(PgConnectionString.Parse("host=db user=app").Resolve(env).Password);
    }

    [Fact]
    public void Npgsql_and_libpq_are_handed_the_same_connection()
    {
        var c = PgConnectionString.Parse("postgresql://app:secret@a:5433,[::1]:5434/shop?sslmode=verify-full&connect_timeout=7&target_session_attrs=read-write&application_name=x").Resolve(NoEnv);
        var npgsql = c.ToNpgsql();
        Assert.Equal("a:5433,[::1]:5434", npgsql.Host);
        Assert.Equal("app", npgsql.Username);
        Assert.Equal("secret", npgsql.Password);
        Assert.Equal("shop", npgsql.Database);
        Assert.Equal(Npgsql.SslMode.VerifyFull, npgsql.SslMode);
        Assert.Equal(7, npgsql.Timeout);
        Assert.Equal("read-write", npgsql.TargetSessionAttributes);
        Assert.Equal("x", npgsql.ApplicationName);

        var env = c.LibpqEnvironment("other");
        Assert.Equal("a,::1", env["PGHOST"]);
        Assert.Equal("5433,5434", env["PGPORT"]);
        Assert.Equal("app", env["PGUSER"]);
        Assert.Equal("secret", env["PGPASSWORD"]);
        Assert.Equal("other", env["PGDATABASE"]);
        Assert.Equal("verify-full", env["PGSSLMODE"]);
        Assert.Equal("read-write", env["PGTARGETSESSIONATTRS"]);
        Assert.Equal("", env["PGSERVICE"]);
        Assert.Equal("app@a:5433,[::1]:5434", c.Display);
    }

    [Fact]
    public void One_host_gets_a_Port_and_lifeboat_as_application_name()
    {
        var npgsql = PgConnectionString.Parse("host=/tmp port=5433 user=postgres").Resolve(NoEnv).ToNpgsql();
        Assert.Equal("/tmp", npgsql.Host);
        Assert.Equal(5433, npgsql.Port);
        Assert.Equal("lifeboat", npgsql.ApplicationName);
        Assert.Equal(15, npgsql.Timeout);
        Assert.Equal("postgres", npgsql.Database);
    }

    [Fact]
    public void Another_database_keeps_the_server_and_user()
    {
        var c = PgConnectionString.Parse("host=db user=app dbname=shop").Resolve(NoEnv).WithDatabase("postgres");
        Assert.Equal("postgres", c.Database);
        Assert.Equal("app", c.User);
        Assert.Equal("db", c.Hosts[0].Host);
    }

    [Fact]
    public void Keyword_value_text_round_trips_and_leaves_the_password_out()
    {
        var parsed = PgConnectionString.Parse("host=/tmp dbname='my db' password=secret");
        Assert.Equal("host=/tmp dbname='my db'", parsed.ToString());
        Assert.Equal(parsed.Settings["dbname"], PgConnectionString.Parse(parsed.ToString()).Settings["dbname"]);
    }
}
