using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Postgres.Connections;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Engine.Logical;

public sealed record DatabaseRestoreOptions
{
    /// <summary>The server to restore into.</summary>
    public required PgConnection Connection { get; init; }

    /// <summary>The database to create (or, with <see cref="Clean"/> and <see cref="Force"/>, to restore over).</summary>
    public required string Into { get; init; }

    /// <summary>Only these tables ("name" or "schema.name"), with what belongs to them; empty: everything.</summary>
    public IReadOnlyList<string> Tables { get; init; } = [];

    public bool SchemaOnly { get; init; }

    /// <summary>Restore into an existing database, dropping the restored objects first (needs <see cref="Force"/>).</summary>
    public bool Clean { get; init; }

    public bool Force { get; init; }

    /// <summary>Do not give objects their original owners (for a server without the original roles).</summary>
    public bool NoOwner { get; init; }

    public int Jobs { get; init; } = 2;
}

public sealed record DatabaseRestoreResult(string Database, string Server, IReadOnlyList<string> Tables, int Entries, bool Created);

/// <summary>
/// The last step of every database restore: pg_restore of a directory-format dump into a new database (created like
/// the original, from template0) or, only when asked twice (--clean --force), over an existing one. A failed restore
/// into a database it created drops that database again, so a failure leaves the server as it was.
/// </summary>
public static class DatabaseRestorer
{
    /// <summary>Checks the target before anything is done: the server answers, and the new database does not exist unless replacing it was asked for.</summary>
    public static async Task<bool> CheckTargetAsync(DatabaseRestoreOptions options, CancellationToken cancellationToken)
    {
        if (options.Clean && !options.Force)
        {
            throw new LifeboatException(ErrorCode.Usage, "«clean» drops and replaces objects in an existing database", "add «force» to confirm, or restore into a new database with «into» NEW_DB");
        }

        ValidateName(options.Into);
        await using var connection = await DatabaseServer.OpenAsync(options.Connection, MaintenanceDatabase(options.Connection), "the server to restore into", cancellationToken);
        var exists = await DatabaseServer.DatabaseExistsAsync(connection, options.Into, cancellationToken);
        if (exists && !options.Clean)
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"database '{options.Into}' already exists on {connection.Host}:{connection.Port}", "choose a new name with «into», or replace the restored objects in it with «clean» «force»");
        }

        if (!exists && MaintenanceDatabase(options.Connection) == options.Into)
        {
            throw new LifeboatException(ErrorCode.Usage, $"the connection string names database '{options.Into}', which does not exist yet", "connect to another database (postgres) to create it");
        }

        return exists;
    }

    /// <summary>Loads a dump directory into a new (or, with «clean» «force», the existing) database with pg_restore from <paramref name="pg"/>.</summary>
    public static async Task<DatabaseRestoreResult> RestoreAsync(PgBinaries pg, string dumpDir, DumpToc toc, DatabaseInfo? like, DatabaseRestoreOptions options, string what, string workDirectory, CancellationToken cancellationToken)
    {
        var relations = options.Tables.Select(t => toc.FindRelation(t, what)).ToList();
        var exists = await CheckTargetAsync(options, cancellationToken);
        string server;
        await using (var connection = await DatabaseServer.OpenAsync(options.Connection, MaintenanceDatabase(options.Connection), "the server to restore into", cancellationToken))
        {
            server = $"{connection.Host}:{connection.Port}";
            if (!exists)
            {
                await DatabaseServer.CreateDatabaseAsync(connection, options.Into, like, cancellationToken);
            }
        }

        var args = new List<string>
        {
            "-d", PgTools.DbnameArgument(options.Into),
            "-j", options.Jobs.ToString(CultureInfo.InvariantCulture),
            "--exit-on-error",
        };
        if (options.NoOwner)
        {
            args.Add("--no-owner");
        }

        if (options.SchemaOnly)
        {
            args.Add("--schema-only");
        }

        if (options.Clean)
        {
            args.Add("--clean");
            args.Add("--if-exists");
        }

        var entries = toc.Entries.Count;
        if (relations.Count > 0)
        {
            var selected = toc.Select(relations);
            entries = selected.Count;
            var list = Path.Combine(workDirectory, "restore.list");
            await File.WriteAllLinesAsync(list, selected.Select(e => e.Line), cancellationToken);
            args.Add("-L");
            args.Add(list);
        }

        args.Add(dumpDir);
        try
        {
            await PgTools.RunAsync(pg.Client("pg_restore"), args, options.Connection.LibpqEnvironment(options.Into), cancellationToken);
        }
        catch (Exception) when (!exists)
        {
            // Leave the server as it was: the database this restore created goes again.
            await using var connection = await DatabaseServer.OpenAsync(options.Connection, MaintenanceDatabase(options.Connection), "the server to restore into", CancellationToken.None);
            await DatabaseServer.DropDatabaseAsync(connection, options.Into, CancellationToken.None);
            throw;
        }

        return new DatabaseRestoreResult(options.Into, server, relations.Select(r => r.QualifiedName).ToList(), entries, !exists);
    }

    /// <summary>
    /// Runs a plain SQL script with psql into a new (or, with «clean» «force», the existing) database: <c>-v
    /// ON_ERROR_STOP=1 --single-transaction</c>, so the first error stops it and rolls everything back — an existing
    /// database is left as it was, a new one is dropped again. <paramref name="script"/> writes the script to psql's
    /// input as it is read from the repository (never a whole copy on disk or in memory).
    /// </summary>
    public static async Task<DatabaseRestoreResult> RestoreScriptAsync(PgBinaries pg, Func<Stream, CancellationToken, Task> script, DatabaseInfo? like, DatabaseRestoreOptions options, string what, CancellationToken cancellationToken)
    {
        if (options.Tables.Count > 0 || options.SchemaOnly || options.NoOwner)
        {
            var field = options.Tables.Count > 0 ? "table" : options.SchemaOnly ? "schema-only" : "no-owner";
            throw new LifeboatException(ErrorCode.InvalidInput, $"{what} is a plain SQL script, which psql runs as it is: «{field}» cannot be applied to it", "restore it whole (leave «" + field + "» out), or upload a `pg_dump -Fc` archive, which pg_restore can select from");
        }

        var exists = await CheckTargetAsync(options, cancellationToken);
        string server;
        await using (var connection = await DatabaseServer.OpenAsync(options.Connection, MaintenanceDatabase(options.Connection), "the server to restore into", cancellationToken))
        {
            server = $"{connection.Host}:{connection.Port}";
            if (!exists)
            {
                await DatabaseServer.CreateDatabaseAsync(connection, options.Into, like, cancellationToken);
            }
        }

        try
        {
            // -X: no ~/.psqlrc; -o /dev/null: the statements' results (set_config, setval) are not wanted, errors go to stderr.
            var result = await ProcessRunner.RunWithInputAsync(
                pg.Client("psql"),
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-o", "/dev/null", "-d", PgTools.DbnameArgument(options.Into), "-f", "-"],
                options.Connection.LibpqEnvironment(options.Into),
                script,
                TimeSpan.FromDays(2),
                cancellationToken);
            if (!result.Success)
            {
                throw new LifeboatException(ErrorCode.PostgresFailed, $"psql failed running {what} (exit code {result.ExitCode}); nothing of it was kept{(exists ? $", database '{options.Into}' is as it was" : "")}: {PgTools.Tail(result.Error, 10)}", "the script stopped at the line psql names (psql:<stdin>:LINE); fix it and upload it again, or create what it needs first (roles: `psql -f globals.sql`)");
            }
        }
        catch (Exception) when (!exists)
        {
            // Leave the server as it was: the database this restore created goes again.
            await using var connection = await DatabaseServer.OpenAsync(options.Connection, MaintenanceDatabase(options.Connection), "the server to restore into", CancellationToken.None);
            await DatabaseServer.DropDatabaseAsync(connection, options.Into, CancellationToken.None);
            throw;
        }

        return new DatabaseRestoreResult(options.Into, server, [], 0, !exists);
    }

    /// <summary>The database to connect to for CREATE/DROP DATABASE: the connection string's, or postgres.</summary>
    public static string MaintenanceDatabase(PgConnection connection)
        => connection.DatabaseGiven ? connection.Database : "postgres";

    private static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || System.Text.Encoding.UTF8.GetByteCount(name) > 63 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new LifeboatException(ErrorCode.Usage, $"--into '{name}' is not a database name", "use a name of 1 to 63 bytes");
        }
    }
}
