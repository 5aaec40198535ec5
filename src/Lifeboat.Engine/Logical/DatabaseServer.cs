using Lifeboat.Core;
using Lifeboat.Postgres.Connections;
using Npgsql;

namespace Lifeboat.Engine.Logical;

/// <summary>What a database is, for dumps and for creating its restored copy.</summary>
public sealed record DatabaseInfo(string Name, int ServerVersionNum, string ServerVersion, string Encoding, string Collate, string Ctype, string Owner, long Size)
{
    public int ServerMajor => ServerVersionNum / 10000;
}

/// <summary>Connections to a server for logical backups and restores, with errors a user can act on.</summary>
public static class DatabaseServer
{
    /// <summary>Opens a connection to <paramref name="database"/> (default: the connection string's).</summary>
    public static async Task<NpgsqlConnection> OpenAsync(PgConnection target, string? database, string what, CancellationToken cancellationToken)
    {
        if (database is not null)
        {
            target = target.WithDatabase(database);
        }

        var builder = target.ToNpgsql();
        builder.Pooling = false;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        var server = string.Join(',', target.Hosts);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.InvalidInput, $"database '{builder.Database}' does not exist on {server} ({what})", "check the database name (`psql -l` lists them)");
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification)
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.InvalidInput, $"{server} refused user '{builder.Username}' ({what}): {ex.MessageText}", "check the user in the connection string and its password (PGPASSWORD, ~/.pgpass or PGPASSFILE) and pg_hba.conf");
        }
        catch (NpgsqlException ex) when (ex is not PostgresException && ex.Message.Contains("No password has been provided", StringComparison.Ordinal))
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.InvalidInput, $"{server} asks for a password for user '{builder.Username}' and none was found ({what})", "put it in ~/.pgpass (mode 0600) or the file PGPASSFILE names, or set PGPASSWORD");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            await connection.DisposeAsync();
            throw new LifeboatException(ErrorCode.PostgresFailed, $"cannot connect to {server} ({what}): {Redact.ConnectionString(ex.Message)}", "is the server running and reachable? check the host and port in the connection string (and PGHOST, PGPORT)");
        }
    }

    public static async Task<DatabaseInfo> InfoAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            """
            SELECT current_database(), current_setting('server_version_num')::int, current_setting('server_version'),
                   pg_encoding_to_char(d.encoding), d.datcollate, d.datctype, pg_get_userbyid(d.datdba), pg_database_size(d.oid)
            FROM pg_database d WHERE d.datname = current_database()
            """,
            connection);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new DatabaseInfo(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetInt64(7));
    }

    public static async Task<bool> DatabaseExistsAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = name } } };
        return await cmd.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public static async Task<bool> RoleExistsAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("SELECT 1 FROM pg_roles WHERE rolname = $1", connection) { Parameters = { new() { Value = name } } };
        return await cmd.ExecuteScalarAsync(cancellationToken) is not null;
    }

    /// <summary>Creates an empty database like the original: from template0, with its encoding and locale.</summary>
    public static async Task CreateDatabaseAsync(NpgsqlConnection connection, string name, DatabaseInfo? like, CancellationToken cancellationToken)
    {
        var sql = $"CREATE DATABASE {PgTools.Ident(name)} TEMPLATE template0";
        if (like is not null)
        {
            sql += $" ENCODING {Literal(like.Encoding)} LC_COLLATE {Literal(like.Collate)} LC_CTYPE {Literal(like.Ctype)}";
        }

        try
        {
            await using var cmd = new NpgsqlCommand(sql, connection);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"database '{name}' already exists", "choose another name with «into», or replace its objects with «clean» «force»");
        }
        catch (PostgresException ex) when (like is not null && ex.SqlState is PostgresErrorCodes.InvalidParameterValue or PostgresErrorCodes.FeatureNotSupported or PostgresErrorCodes.WrongObjectType)
        {
            // The original locale does not exist here: fall back to the server's defaults, with the same encoding where possible.
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {PgTools.Ident(name)} TEMPLATE template0", connection);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"user '{connection.UserName}' may not create database '{name}': {ex.MessageText}", "connect as a role with CREATEDB (or a superuser)");
        }
    }

    public static async Task DropDatabaseAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {PgTools.Ident(name)} WITH (FORCE)", connection);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}
