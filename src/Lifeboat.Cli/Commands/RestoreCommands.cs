using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Stacks;
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
        var archiveMode = new Option<string?>("--archive-mode") { Description = "Cluster: 'off' (the default for a copy: any directory but the source's own PGDATA) keeps the restored cluster from archiving into the source's WAL archive; 'preserve' keeps the source's archive settings (the default in the source's own PGDATA)", HelpName = "off|preserve" };
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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
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
                    ("--target-timeline", parse.GetValue(timeline) is not null), ("--delta", parse.GetValue(delta)), ("--force", parse.GetValue(force)), ("--tablespace-map", (parse.GetValue(tablespaceMap) ?? []).Length > 0),
                    ("--database", parse.GetValue(database) is not null), ("--into", parse.GetValue(into) is not null), ("--table", (parse.GetValue(table) ?? []).Length > 0),
                    ("--schema-only", parse.GetValue(schemaOnly)), ("--clean", parse.GetValue(clean)), ("--no-owner", parse.GetValue(noOwner)), ("--conn", parse.GetValue(conn) is not null),
                };
                if (onlyForSources.FirstOrDefault(o => o.Given) is { Name: not null } extra)
                {
                    throw new LifeboatException(ErrorCode.Usage, $"{extra.Name} does not apply to a stack restore", "a stack restore takes --to DIR, and optionally --backup STACK_BACKUP_ID, --target-time TIME and --archive-mode off|preserve; restore one source with --source for the rest");
                }

                if (parse.GetValue(to) is not { } stackDestination)
                {
                    throw new LifeboatException(ErrorCode.Usage, "a stack restore needs --to DIR", "every source is restored under DIR/<source>");
                }

                return await StackCommands.RestoreAsync(call, new RestoreStackRequest(stackName, stackDestination, parse.GetValue(backup), parse.GetValue(targetTime), parse.GetValue(archiveMode)), ct);
            }

            var request = new RestoreSourceRequest
            {
                Source = parse.GetValue(source)!,
                From = parse.GetValue(from),
                Backup = parse.GetValue(backup),
                To = parse.GetValue(to),
                Path = parse.GetValue(path) ?? [],
                Overwrite = parse.GetValue(overwrite),
                TargetTime = parse.GetValue(targetTime),
                TargetLsn = parse.GetValue(targetLsn),
                TargetXid = parse.GetValue(targetXid),
                TargetName = parse.GetValue(targetName),
                Target = parse.GetValue(target),
                TargetTimeline = parse.GetValue(timeline),
                Delta = parse.GetValue(delta),
                Force = parse.GetValue(force),
                TablespaceMap = parse.GetValue(tablespaceMap) ?? [],
                TargetAction = parse.GetValue(action)!,
                ArchiveMode = parse.GetValue(archiveMode),
                Database = parse.GetValue(database),
                Into = parse.GetValue(into),
                Table = parse.GetValue(table) ?? [],
                SchemaOnly = parse.GetValue(schemaOnly),
                Clean = parse.GetValue(clean),
                NoOwner = parse.GetValue(noOwner),
                Conn = parse.GetValue(conn),
                Scratch = parse.GetValue(scratch),
            };
            RestoreSourceResult outcome;
            using (call.ShowProgress("restore"))
            {
                outcome = await call.Get<RestoreSource>().ExecuteAsync(request, ct);
            }

            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(outcome, LifeboatJson.Default.RestoreSourceResult);
                return 0;
            }

            switch (outcome)
            {
                case ClusterRestored c:
                    PrintCluster(output, c);
                    break;
                case DatabaseRestored d:
                    PrintDatabase(output, d);
                    break;
                case FilesRestored r:
                    PrintFiles(output, r);
                    break;
            }

            return 0;
        }));
        yield return command;
    }

    private static void PrintFiles(CliOutput output, FilesRestored r)
    {
        foreach (var warning in r.Warnings ?? [])
        {
            output.Warn(warning);
        }

        output.Line($"restored backup {r.Backup} of '{r.Source}' to {(r.Kind == SourceKinds.Config && r.Destination == "/" ? "the original places" : r.Destination)}");
        output.Line($"  {r.Files} files ({CliOutput.Size(r.Bytes)}), {r.Directories} directories, {r.Symlinks} symlinks; every chunk verified");
        if (r.Kind == SourceKinds.Config && r.Destination != "/")
        {
            output.Line($"  review them there (the directory is readable by you only), then put them in place with `lifeboat restore --source {r.Source} --backup {r.Backup} --overwrite`");
        }

        if (!r.OwnersRestored)
        {
            output.Line("  owners were not restored (not running as root); modes and times were");
        }
    }

    private static void PrintDatabase(CliOutput output, DatabaseRestored d)
    {
        var what = d.Tables.Count == 0 ? "everything" : string.Join(", ", d.Tables);
        output.Line($"restored {what} from backup {d.Backup} of '{d.Source}' into database '{d.Database}' on {d.Server} in {CliOutput.Duration(TimeSpan.FromSeconds(d.Seconds))}");
        // An uploaded SQL script has no archive entries: psql ran it whole (DatabaseRestorer.RestoreScriptAsync).
        var loaded = d.Entries == 0 && d.Tables.Count == 0 ? "the SQL script ran with psql in one transaction" : $"{d.Entries} archive entries restored";
        output.Line($"  {loaded}{(d.Created ? "; the database was created" : " over the existing database (--clean)")}");
    }

    private static void PrintCluster(CliOutput output, ClusterRestored c)
    {
        output.Line($"restored backup {c.Backup} of '{c.Source}' (PostgreSQL {c.ServerVersion}, timeline {c.Timeline}) to {c.Destination} in {CliOutput.Duration(TimeSpan.FromSeconds(c.Seconds))}");
        output.Line($"  {c.Files} files, {CliOutput.Size(c.Bytes)} ({CliOutput.Size(c.BytesWritten)} written); every chunk verified");
        foreach (var (oid, location) in c.Tablespaces)
        {
            output.Line($"  tablespace {oid} → {location}");
        }

        output.Line($"  recovery to {c.Target} (the backup is consistent from {c.BackupStopTime.ToUniversalTime():yyyy-MM-dd HH:mm:ss'Z'}, LSN {c.BackupStopLsn})");
        output.Line(c.ArchiveMode == "off"
            ? $"  archiving is off in {(c.RestoredCopy ? "this copy" : "the restored cluster")} (archive_mode = off): it does not archive into the WAL archive of '{c.Source}'"
            : c.RestoredCopy
                ? $"  archiving as in '{c.Source}' (--archive-mode preserve): once promoted, its new timeline is archived into the WAL archive of '{c.Source}'"
                : $"  archiving as before: the source's own PGDATA continues the WAL archive of '{c.Source}' on a new timeline");
        output.Line("next: start the server as the PostgreSQL OS user: pg_ctl -D " + c.Destination + " start");
        output.Line("      it fetches WAL with lifeboat wal-fetch, recovers, and " + (c.TargetKind == RecoveryTargetKind.Latest ? "opens at the end of the archive" : "promotes at the target"));
    }
}
