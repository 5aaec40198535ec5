using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Platform;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Engine.Cluster;

/// <summary>
/// `check` as the server sees it: runs archive_command's own program, as the OS user that owns the data directory
/// (the one PostgreSQL's archiver runs as) and with the postmaster's environment (/proc/PID/environ), through /bin/sh as
/// PostgreSQL does — but `archiving probe` instead of `wal-push`: it reads the configuration and the key, opens the
/// repository and writes and deletes an object where the WAL goes. A configuration root wrote 0600, a key file, or a
/// repository directory that user cannot use then fails here, naming the path and the user, instead of in archiving.
/// </summary>
public static partial class ServerSideCheck
{
    public const string Name = "archiving as the server";

    public static async Task RunAsync(string name, ClusterSourceOptions source, string archiveCommand, IReadOnlyDictionary<string, string?> environment, Action<string, CheckStatus, string, string?> add, CancellationToken cancellationToken)
    {
        var probe = ProbeCommand(archiveCommand);
        if (probe is null || Unix.Lstat(source.PgData!) is not { } owner)
        {
            return; // archive_command is not Lifeboat's (its own check failed), or the data directory is unreadable (so is pgdata)
        }

        var user = Unix.UserName(owner.Uid) ?? owner.Uid.ToString(CultureInfo.InvariantCulture);
        string program;
        List<string> arguments;
        if (Unix.EffectiveUid == owner.Uid)
        {
            (program, arguments) = ("/bin/sh", ["-c", probe]);
        }
        else if (Unix.IsRoot)
        {
            // setpriv changes only the ids (runuser would also reset HOME, USER and the like): the environment stays the server's.
            (program, arguments) = ("setpriv", ["--reuid=" + owner.Uid.ToString(CultureInfo.InvariantCulture), "--regid=" + owner.Gid.ToString(CultureInfo.InvariantCulture), "--init-groups", "--", "/bin/sh", "-c", probe]);
        }
        else
        {
            add(Name, CheckStatus.Warning, $"archive_command runs as '{user}' (the owner of {source.PgData}); this check runs as '{Environment.UserName}' and cannot try it as that user", $"run `lifeboat check` as root or as '{user}'");
            return;
        }

        var (serverEnvironment, whose) = PostmasterEnvironment(source.PgData!) is { } env
            ? (env, "the server's environment")
            : (environment.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!, StringComparer.Ordinal), "this command's environment (the server's could not be read)");
        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunInEnvironmentAsync(program, arguments, serverEnvironment, TimeSpan.FromMinutes(2), cancellationToken, source.PgData);
        }
        catch (Core.LifeboatException ex)
        {
            add(Name, CheckStatus.Failed, $"cannot run archive_command's program as '{user}': {ex.Message}", ex.Hint);
            return;
        }

        if (result.Success && TryRead(result.Output, LifeboatJson.Default.ArchivingProbeResult) is { } ok)
        {
            add(Name, CheckStatus.Ok, $"as '{user}' with {whose}, archive_command's program reads {ok.ConfigFile} and the {ok.Key}, and writes to {ok.Repository}", null);
        }
        else if (TryRead(result.Output, LifeboatJson.Default.ErrorDocument) is { Error: not null } failed)
        {
            add(Name, CheckStatus.Failed, $"as '{user}' (archive_command's user), {failed.Error.Message}", failed.Error.Hint);
        }
        else
        {
            var why = result.Error.Trim() is { Length: > 0 } e ? PgToolsTail(e) : $"exit code {result.ExitCode}";
            add(Name, CheckStatus.Failed, $"as '{user}', archive_command's program does not run: {why}", $"install lifeboat where '{user}' can run it (scripts/install.sh puts it in /usr/local/bin), then `lifeboat archiving setup --source {name} --apply`");
        }
    }

    /// <summary>archive_command with `archiving probe --json` in place of `wal-push` and without %p; null when it is not Lifeboat's wal-push.</summary>
    internal static string? ProbeCommand(string archiveCommand)
    {
        if (!WalPush().IsMatch(archiveCommand))
        {
            return null;
        }

        var probe = WalPush().Replace(archiveCommand, " archiving probe --json ", 1);
        return Placeholder().Replace(probe, "").TrimEnd();
    }

    /// <summary>The postmaster's environment, which its archiver inherits; null when it cannot be read (not running, another user's process).</summary>
    internal static Dictionary<string, string>? PostmasterEnvironment(string pgdata)
    {
        try
        {
            var first = File.ReadLines(Path.Combine(pgdata, "postmaster.pid")).FirstOrDefault();
            if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }

            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    environment[entry[..eq]] = entry[(eq + 1)..];
                }
            }

            return environment.Count == 0 ? null : environment;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static T? TryRead<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return json.TrimStart().StartsWith('{') ? JsonSerializer.Deserialize(json, type) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string PgToolsTail(string text) => Logical.PgTools.Tail(text, 3).Replace('\n', ' ');

    [GeneratedRegex(@"\swal-push\s", RegexOptions.CultureInvariant)]
    private static partial Regex WalPush();

    [GeneratedRegex(@"\s+%[pf](?=\s|$)", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
