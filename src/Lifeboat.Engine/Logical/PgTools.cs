using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Lifeboat.Core;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Engine.Logical;

/// <summary>
/// Runs pg_dump, pg_dumpall and pg_restore against a server given by a <see cref="Postgres.Connections.PgConnection"/> (its <see cref="Postgres.Connections.PgConnection.LibpqEnvironment"/>). The programs are
/// paths a call's <see cref="PgBinaries"/> resolved (<see cref="PgBinaries.Client(string)"/>).
/// </summary>
public static partial class PgTools
{
    /// <summary>A libpq connection string naming only a database (for -d, which would read "a=b" as key/value pairs).</summary>
    public static string DbnameArgument(string database)
        => "dbname='" + database.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    /// <summary>A pg_dump pattern matching exactly one relation (quoted, so wildcards and case are literal).</summary>
    public static string ExactPattern(string schema, string name)
        => Quote(schema) + "." + Quote(name);

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>SQL identifier quoting.</summary>
    public static string Ident(string identifier) => Quote(identifier);

    /// <summary>The major version of one of PostgreSQL's programs ("pg_dump (PostgreSQL) 15.18" → 15).</summary>
    public static async Task<(int Major, string Text)> VersionAsync(string path, CancellationToken cancellationToken)
    {
        var result = await ProcessRunner.RunAsync(path, ["--version"], null, null, TimeSpan.FromSeconds(30), cancellationToken);
        var m = Version().Match(result.Output);
        if (!result.Success || !m.Success)
        {
            throw new LifeboatException(ErrorCode.Config, $"cannot run {path} --version: {result.Error.Trim()}", $"install PostgreSQL's client programs (Debian: postgresql-client-NN for the server's version NN) or set {PgBinaries.Variable}");
        }

        return (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), result.Output.Trim());
    }

    /// <summary>Runs a client program (its path) as the current user with the connection's environment; throws with its error output on failure.</summary>
    public static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var tool = Path.GetFileName(program);
        var result = await ProcessRunner.RunAsync(program, arguments, null, environment, timeout ?? TimeSpan.FromDays(2), cancellationToken);
        if (!result.Success)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"{tool} failed (exit code {result.ExitCode}): {Tail(result.Error, 30)}", Hint(result.Error));
        }

        return result;
    }

    /// <summary>The last lines of a tool's error output, without secrets.</summary>
    public static string Tail(string text, int lines)
    {
        var all = text.Trim().Split('\n');
        var sb = new StringBuilder();
        foreach (var line in all.Skip(Math.Max(0, all.Length - lines)))
        {
            sb.AppendLine(Redact.ConnectionString(line.TrimEnd()));
        }

        return sb.ToString().TrimEnd();
    }

    private static string? Hint(string error)
    {
        if (error.Contains("role \"", StringComparison.Ordinal) && error.Contains("does not exist", StringComparison.Ordinal))
        {
            return "the objects' owners are missing on this server: create the roles first (psql -f globals.sql from `lifeboat restore --to DIR`) or pass --no-owner";
        }

        if (error.Contains("server version mismatch", StringComparison.Ordinal) || error.Contains("aborting because of server version mismatch", StringComparison.Ordinal))
        {
            return "install a pg_dump at least as new as the server (Debian: postgresql-client-NN) or set " + PgBinaries.Variable;
        }

        return null;
    }

    [GeneratedRegex(@"\(PostgreSQL\) (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Version();
}
