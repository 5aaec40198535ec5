using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres.Recovery;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat restore</c>: file trees and clusters (with point-in-time recovery).</summary>
internal static class RestoreCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "The source whose backup to restore", HelpName = "NAME" };
        var stack = new Option<string?>("--stack") { Description = "Restore every source of this stack, as of one stack backup, under --to DIR", HelpName = "NAME" };
        var to = new Option<string?>("--to") { Description = "Restore into this new or empty directory", HelpName = "DIR" };
        var backup = new Option<string?>("--backup") { Description = "The backup to restore (default: the latest, or for a cluster the latest before the target)", HelpName = "ID" };
        var path = new Option<string[]>("--path") { Description = "Files: restore only paths matching this glob (repeatable)", HelpName = "GLOB", AllowMultipleArgumentsPerToken = false };
        var overwrite = new Option<bool>("--overwrite") { Description = "Files: replace existing files (into a non-empty --to, or without --to over the original place)" };
        var targetTime = new Option<string?>("--target-time") { Description = "Cluster: recover to this time (2026-11-22T14:03:00+00:00)", HelpName = "TIME" };
        var targetLsn = new Option<string?>("--target-lsn") { Description = "Cluster: recover to this WAL position", HelpName = "LSN" };
        var targetXid = new Option<string?>("--target-xid") { Description = "Cluster: recover to the end of this transaction", HelpName = "XID" };
        var targetName = new Option<string?>("--target-name") { Description = "Cluster: recover to this restore point (pg_create_restore_point)", HelpName = "NAME" };
        var target = new Option<string?>("--target") { Description = "Cluster: 'immediate' stops as soon as the backup is consistent", HelpName = "immediate" };
        var timeline = new Option<string?>("--target-timeline") { Description = "Cluster: latest, current or a timeline number", HelpName = "latest|current|N" };
        var delta = new Option<bool>("--delta") { Description = "Cluster: rewrite only what differs in an existing (stopped) data directory" };
        var force = new Option<bool>("--force") { Description = "Cluster: replace the contents of a non-empty directory" };
        var tablespaceMap = new Option<string[]>("--tablespace-map") { Description = "Cluster: restore tablespace OID to DIR instead of its original location (repeatable)", HelpName = "OID=DIR", AllowMultipleArgumentsPerToken = false };
        var action = new Option<string>("--target-action") { Description = "Cluster: what the server does at the target", DefaultValueFactory = _ => "promote", HelpName = "promote|pause|shutdown" };
        action.AcceptOnlyFromAmong("promote", "pause", "shutdown");
        var archiveMode = new Option<string>("--archive-mode") { Description = "Cluster: 'off' keeps a restored copy from archiving into the source's WAL archive", DefaultValueFactory = _ => "preserve", HelpName = "preserve|off" };
        archiveMode.AcceptOnlyFromAmong("preserve", "off");
        var database = new Option<string?>("--database") { Description = "Database restore: the database to restore (a database source's own, or one of a cluster's)", HelpName = "DB" };
        var into = new Option<string?>("--into") { Description = "Database restore: the new database to create and restore into", HelpName = "NEW_DB" };
        var table = new Option<string[]>("--table") { Description = "Database restore: only this table, with its indexes, constraints and sequences (repeatable; name or schema.name)", HelpName = "T", AllowMultipleArgumentsPerToken = false };
        var schemaOnly = new Option<bool>("--schema-only") { Description = "Database restore: definitions only, no rows" };
        var clean = new Option<bool>("--clean") { Description = "Database restore: restore into an existing database, dropping the restored objects first (with --force)" };
        var noOwner = new Option<bool>("--no-owner") { Description = "Database restore: do not give objects their original owners (a server without those roles)" };
        var conn = new Option<string?>("--conn") { Description = "Database restore: the server to restore into (default: the source's)", HelpName = "CONNSTRING" };
        var scratch = new Option<string?>("--scratch") { Description = "Database restore: where temporary files go (default: the system's temporary directory)", HelpName = "DIR" };
        var from = new Option<string?>("--from") { Description = "Read the backup from this target only (primary or a secondary); default: the primary, else the next target that can be read", HelpName = "TARGET" };
        var json = RepoCommands.JsonOption();
        var command = new Command("restore", "Restore a backup: a cluster with point-in-time recovery, a database or some of its tables, a file tree, a config set")
        {
            source, stack, to, backup, path, overwrite, targetTime, targetLsn, targetXid, targetName, target, timeline, delta, force, tablespaceMap, action, archiveMode,
            database, into, table, schemaOnly, clean, noOwner, conn, scratch, from, json,
        };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var recoveryTarget = RecoveryTarget.FromOptions(parse.GetValue(targetTime), parse.GetValue(targetLsn), parse.GetValue(targetXid), parse.GetValue(targetName), parse.GetValue(target));
            var tli = parse.GetValue(timeline);
            if (tli is not null && tli is not ("latest" or "current") && !uint.TryParse(tli, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw new LifeboatException(ErrorCode.Usage, $"--target-timeline '{tli}' is not a timeline", "use latest, current or a timeline number");
            }

            var stackName = parse.GetValue(stack);
            if ((stackName is null) == (parse.GetValue(source) is null))
            {
                throw new LifeboatException(ErrorCode.Usage, "restore needs exactly one of --source NAME and --stack NAME", "see `lifeboat restore --help`; `lifeboat source list` and `lifeboat stack list` show the names");
            }

            if (stackName is not null)
            {
                var onlyForSources = new (string Name, bool Given)[]
                {
                    ("--path", (parse.GetValue(path) ?? []).Length > 0), ("--overwrite", parse.GetValue(overwrite)), ("--target-lsn", parse.GetValue(targetLsn) is not null),
                    ("--target-xid", parse.GetValue(targetXid) is not null), ("--target-name", parse.GetValue(targetName) is not null), ("--target", parse.GetValue(target) is not null),
                    ("--target-timeline", tli is not null), ("--delta", parse.GetValue(delta)), ("--force", parse.GetValue(force)), ("--tablespace-map", (parse.GetValue(tablespaceMap) ?? []).Length > 0),
                    ("--database", parse.GetValue(database) is not null), ("--into", parse.GetValue(into) is not null), ("--table", (parse.GetValue(table) ?? []).Length > 0),
                    ("--schema-only", parse.GetValue(schemaOnly)), ("--clean", parse.GetValue(clean)), ("--no-owner", parse.GetValue(noOwner)), ("--conn", parse.GetValue(conn) is not null),
                };
                if (onlyForSources.FirstOrDefault(o => o.Given) is { Name: not null } extra)
                {
                    throw new LifeboatException(ErrorCode.Usage, $"{extra.Name} does not apply to a stack restore", "a stack restore takes --to DIR, and optionally --backup STACK_BACKUP_ID, --target-time TIME and --archive-mode off; restore one source with --source for the rest");
                }

                if (parse.GetValue(to) is not { } stackDestination)
                {
                    throw new LifeboatException(ErrorCode.Usage, "a stack restore needs --to DIR", "every source is restored under DIR/<source>");
                }

                return await StackCommands.RestoreAsync(context, output, new StackRestoreRequest
                {
                    Stack = stackName,
                    Destination = stackDestination,
                    BackupId = parse.GetValue(backup),
                    TargetTime = parse.GetValue(targetTime),
                    ArchiveOff = parse.GetValue(archiveMode) == "off",
                }, ct);
            }

            var started = context.Time.GetTimestamp();
            using var bar = output.Progress("restore");
            var outcome = await RestoreService.RunAsync(
                context,
                new RestoreRequest
                {
                    SourceName = parse.GetValue(source)!,
                    From = parse.GetValue(from),
                    BackupId = parse.GetValue(backup),
                    Destination = parse.GetValue(to),
                    Paths = parse.GetValue(path) ?? [],
                    Overwrite = parse.GetValue(overwrite),
                    Target = recoveryTarget,
                    TargetTimeline = tli,
                    Delta = parse.GetValue(delta),
                    Force = parse.GetValue(force),
                    TablespaceMap = ParseTablespaceMap(parse.GetValue(tablespaceMap) ?? [], context.WorkingDirectory),
                    TargetAction = parse.GetValue(action)!,
                    ArchiveOff = parse.GetValue(archiveMode) == "off",
                    Database = parse.GetValue(database),
                    Into = parse.GetValue(into),
                    Tables = parse.GetValue(table) ?? [],
                    SchemaOnly = parse.GetValue(schemaOnly),
                    Clean = parse.GetValue(clean),
                    NoOwner = parse.GetValue(noOwner),
                    Connection = parse.GetValue(conn),
                    Scratch = parse.GetValue(scratch),
                },
                new Progress<Engine.Files.RestoreProgress>(p => bar.Update(p.Bytes, $"{p.Files} files")),
                ct);
            bar.Dispose();
            var elapsed = context.Time.GetElapsedTime(started);
            if (outcome.Cluster is { } c)
            {
                PrintCluster(output, outcome, c, elapsed);
                return 0;
            }

            if (outcome.Database is { } d)
            {
                PrintDatabase(output, outcome, d, elapsed);
                return 0;
            }

            var r = outcome.Files!;
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["backup"] = outcome.Manifest.Id,
                    ["source"] = outcome.Manifest.Source,
                    ["destination"] = outcome.Destination,
                    ["files"] = r.Files,
                    ["directories"] = r.Directories,
                    ["symlinks"] = r.Symlinks,
                    ["bytes"] = r.Bytes,
                    ["ownersRestored"] = r.OwnersRestored,
                });
                return 0;
            }

            output.Line($"restored backup {outcome.Manifest.Id} of '{outcome.Manifest.Source}' to {(outcome.Manifest.Kind == Engine.Configuration.SourceKinds.Config && outcome.Destination == "/" ? "the original places" : outcome.Destination)}");
            output.Line($"  {r.Files} files ({CliOutput.Size(r.Bytes)}), {r.Directories} directories, {r.Symlinks} symlinks; every chunk verified");
            if (outcome.Manifest.Kind == Engine.Configuration.SourceKinds.Config && outcome.Destination != "/")
            {
                output.Line($"  review them there (the directory is readable by you only), then put them in place with `lifeboat restore --source {outcome.Manifest.Source} --backup {outcome.Manifest.Id} --overwrite`");
            }
            if (!r.OwnersRestored)
            {
                output.Line("  owners were not restored (not running as root); modes and times were");
            }

            return 0;
        }));
        yield return command;
    }

    private static void PrintDatabase(CliOutput output, RestoreOutcome outcome, Engine.Logical.DatabaseRestoreResult d, TimeSpan elapsed)
    {
        if (output.Json)
        {
            output.WriteJson(new JsonObject
            {
                ["backup"] = outcome.Manifest.Id,
                ["source"] = outcome.Manifest.Source,
                ["database"] = d.Database,
                ["server"] = d.Server,
                ["created"] = d.Created,
                ["tables"] = new JsonArray(d.Tables.Select(t => (JsonNode?)t).ToArray()),
                ["entries"] = d.Entries,
                ["seconds"] = Math.Round(elapsed.TotalSeconds, 3),
            });
            return;
        }

        var what = d.Tables.Count == 0 ? "everything" : string.Join(", ", d.Tables);
        output.Line($"restored {what} from backup {outcome.Manifest.Id} of '{outcome.Manifest.Source}' into database '{d.Database}' on {d.Server} in {CliOutput.Duration(elapsed)}");
        output.Line($"  {d.Entries} archive entries restored{(d.Created ? "; the database was created" : " over the existing database (--clean)")}");
    }

    private static void PrintCluster(CliOutput output, RestoreOutcome outcome, Engine.Cluster.ClusterRestoreResult c, TimeSpan elapsed)
    {
        if (output.Json)
        {
            output.WriteJson(new JsonObject
            {
                ["backup"] = c.Backup.Id,
                ["source"] = c.Backup.Source,
                ["destination"] = c.Destination,
                ["serverVersion"] = c.Info.ServerVersionText,
                ["timeline"] = c.Info.Timeline,
                ["backupStopLsn"] = c.Info.StopLsn,
                ["backupStopTime"] = c.Info.StopTime,
                ["target"] = c.Target.ToString(),
                ["files"] = c.Files.Files,
                ["bytes"] = c.Files.Bytes,
                ["bytesWritten"] = c.Files.BytesWritten,
                ["seconds"] = Math.Round(elapsed.TotalSeconds, 3),
                ["tablespaces"] = new JsonObject(c.Tablespaces.Select(t => KeyValuePair.Create(t.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)t.Value))),
                ["window"] = Window(c.Window),
            });
            return;
        }

        output.Line($"restored backup {c.Backup.Id} of '{c.Backup.Source}' (PostgreSQL {c.Info.ServerVersionText}, timeline {c.Info.Timeline}) to {c.Destination} in {CliOutput.Duration(elapsed)}");
        output.Line($"  {c.Files.Files} files, {CliOutput.Size(c.Files.Bytes)} ({CliOutput.Size(c.Files.BytesWritten)} written); every chunk verified");
        foreach (var (oid, location) in c.Tablespaces)
        {
            output.Line($"  tablespace {oid} → {location}");
        }

        output.Line($"  recovery to {c.Target} (the backup is consistent from {c.Info.StopTime.ToUniversalTime():yyyy-MM-dd HH:mm:ss'Z'}, LSN {c.Info.StopLsn})");
        output.Line("next: start the server as the PostgreSQL OS user: pg_ctl -D " + c.Destination + " start");
        output.Line("      it fetches WAL with lifeboat wal-fetch, recovers, and " + (c.Target.Kind == RecoveryTargetKind.Latest ? "opens at the end of the archive" : "promotes at the target"));
    }

    internal static JsonArray Window(IEnumerable<Postgres.Wal.TimelineWindow> window)
        => new(window.Select(w => (JsonNode)new JsonObject
        {
            ["timeline"] = w.Timeline,
            ["earliest"] = w.Earliest,
            ["latest"] = w.Latest,
            ["latestLsn"] = w.LatestLsn.ToString(),
            ["backups"] = new JsonArray(w.Backups.Select(b => (JsonNode?)b).ToArray()),
        }).ToArray());

    private static Dictionary<uint, string> ParseTablespaceMap(string[] values, string workingDirectory)
    {
        var map = new Dictionary<uint, string>();
        foreach (var value in values)
        {
            var eq = value.IndexOf('=');
            if (eq <= 0 || !uint.TryParse(value.AsSpan(0, eq), NumberStyles.None, CultureInfo.InvariantCulture, out var oid) || eq == value.Length - 1)
            {
                throw new LifeboatException(ErrorCode.Usage, $"--tablespace-map '{value}' is not OID=DIR", "for example --tablespace-map 16390=/srv/pg/ts1-restored");
            }

            map[oid] = Path.GetFullPath(value[(eq + 1)..], workingDirectory);
        }

        return map;
    }
}
