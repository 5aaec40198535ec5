using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Logical;
using Lifeboat.Engine.UseCases.Backups;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat backup | list | info</c>.</summary>
internal static class BackupCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        yield return Backup(app);
        yield return List(app);
        yield return Info(app);
    }

    private static Command Backup(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "The source to back up", HelpName = "NAME" };
        var stack = new Option<string?>("--stack") { Description = "Back up every source of this stack as one consistent point", HelpName = "NAME" };
        var type = new Option<string?>("--type") { Description = "full: read everything; incr: skip what did not change since the last backup (default: incr when there is one)", HelpName = "full|incr" };
        type.AcceptOnlyFromAmong("full", "incr");
        var json = RepoCommands.JsonOption();
        var command = new Command("backup", "Back up a source, or every source of a stack") { source, stack, type, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var stackName = parse.GetValue(stack);
            if ((stackName is null) == (parse.GetValue(source) is null))
            {
                throw new LifeboatException(ErrorCode.Usage, "backup needs exactly one of --source NAME and --stack NAME", "see `lifeboat backup --help`; `lifeboat source list` and `lifeboat stack list` show the names");
            }

            if (stackName is not null)
            {
                return await StackCommands.BackupAsync(call, stackName, parse.GetValue(type), ct);
            }

            var name = parse.GetValue(source)!;
            BackupSourceResult outcome;
            using (call.ShowProgress("backup " + name))
            {
                outcome = await call.Get<BackupSource>().ExecuteAsync(new BackupSourceRequest(name, parse.GetValue(type)), ct);
            }

            var output = call.Output;
            foreach (var problem in outcome.Problems.Concat(outcome.Warnings ?? []))
            {
                output.Warn(problem);
            }

            if (output.Json)
            {
                output.WriteJson(outcome, LifeboatJson.Default.BackupSourceResult);
            }
            else
            {
                output.Line($"backup {outcome.Id} of '{outcome.Source}' ({outcome.Type}) completed in {CliOutput.Duration(outcome.Finished - outcome.Started)}");
                output.Line($"  {outcome.Stats.Files} files, {outcome.Stats.Dirs} directories, {CliOutput.Size(outcome.Stats.Bytes)}");
                output.Line($"  read {CliOutput.Size(outcome.Stats.BytesRead)} ({outcome.Stats.UnchangedFiles} files unchanged), new data {CliOutput.Size(outcome.Stats.NewBytes)}, stored {CliOutput.Size(outcome.Stats.StoredBytes)}");
                if (outcome.Replication is { } replication)
                {
                    TargetCommands.Print(output, replication);
                }
            }

            // A secondary that failed does not fail the backup (committed on the primary): reported, caught up later.
            WarnReplication(output, $"backup {outcome.Id}", outcome.Replication, outcome.ReplicationError);
            if (outcome.Problems.Count > 0)
            {
                output.Note($"lifeboat: backup {outcome.Id} is committed with {outcome.Problems.Count} problem(s) (paths that could not be read, files that changed while they were read or vanished); it holds everything else");
                return ErrorCode.Failed.ToExitCode();
            }

            return 0;
        }));
        return command;
    }

    /// <summary>A backup committed on the primary whose replication did not run, or failed on some targets: warnings, not failures.</summary>
    internal static void WarnReplication(CliOutput output, string what, Engine.Replication.ReplicateReport? replication, string? replicationError)
    {
        if (replicationError is not null)
        {
            output.Warn($"{what} is committed on the primary target, but replication did not run: {replicationError}; run `lifeboat replicate`");
        }

        foreach (var f in replication?.Failures ?? [])
        {
            output.Warn($"{what} is committed on the primary target, but not replicated to target {f.Display}: {f.Error}; `lifeboat replicate --to {f.Target}` catches it up");
        }
    }

    private static Command List(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only backups of this source", HelpName = "NAME" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List backups") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var filter = parse.GetValue(source);
            var result = await call.Get<ListBackups>().ExecuteAsync(new ListBackupsRequest(filter), ct);
            var output = call.Output;
            foreach (var d in result.Damaged)
            {
                output.Warn($"backup {d.Id}: {d.Error}");
            }

            var exit = result.Damaged.Count > 0 ? ErrorCode.Damage.ToExitCode() : 0;
            if (output.Json)
            {
                output.WriteJson(result, LifeboatJson.Default.ListBackupsResult);
                return exit;
            }

            var shown = result.Backups;
            if (shown.Count == 0)
            {
                output.Line(filter is null ? $"no backups in {result.Repository}" : $"no backups of '{filter}' in {result.Repository}");
                return exit;
            }

            output.Table(
                ["ID", "SOURCE", "KIND", "TYPE", "STARTED", "DURATION", "SIZE", "STORED"],
                shown.Select(m => new[] { m.Id, m.Source, m.Kind, m.Type, CliOutput.Time(m.Started), CliOutput.Duration(m.Finished - m.Started), CliOutput.Size(m.Stats.Bytes), CliOutput.Size(m.Stats.StoredBytes) }));
            output.Line($"{shown.Count} backup(s), {CliOutput.Size(shown.Sum(m => m.Stats.Bytes))} in all, {CliOutput.Size(shown.Sum(m => m.Stats.StoredBytes))} stored");
            foreach (var w in result.Recoverable)
            {
                foreach (var t in w.Timelines)
                {
                    output.Line($"recoverable: '{w.Source}' timeline {t.Timeline}: {CliOutput.Time(t.Earliest)} .. {(t.Latest is { } l ? CliOutput.Time(l) : "incomplete (WAL missing)")}");
                }
            }

            return exit;
        }));
        return command;
    }

    private static Command Info(CliApp app)
    {
        var id = new Argument<string>("BACKUP_ID");
        var json = RepoCommands.JsonOption();
        var command = new Command("info", "Show one backup") { id, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var m = await call.Get<ShowBackup>().ExecuteAsync(new ShowBackupRequest(parse.GetValue(id)!), ct);
            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(m, LifeboatJson.Default.ShowBackupResult);
                return 0;
            }

            output.Line($"backup     {m.Id}");
            output.Line($"source     {m.Source} ({m.Kind})");
            output.Line($"type       {m.Type}{(m.Parent is null ? "" : $" (metadata of {m.Parent} trusted for unchanged files)")}");
            output.Line($"started    {CliOutput.Time(m.Started)}");
            output.Line($"finished   {CliOutput.Time(m.Finished)} ({CliOutput.Duration(m.Finished - m.Started)})");
            output.Line($"host       {m.Host}");
            if (m.Paths is { Count: > 0 })
            {
                output.Line($"paths      {string.Join(", ", m.Paths)}");
            }

            output.Line($"contents   {m.Stats.Files} files, {m.Stats.Dirs} directories, {CliOutput.Size(m.Stats.Bytes)}");
            output.Line($"read       {CliOutput.Size(m.Stats.BytesRead)} ({m.Stats.UnchangedFiles} files unchanged)");
            output.Line($"chunks     {m.Stats.Chunks} ({m.Stats.NewChunks} new, {CliOutput.Size(m.Stats.NewBytes)}); tree in {m.TreeChunkCount} chunks");
            output.Line($"stored     {CliOutput.Size(m.Stats.StoredBytes)} added to the repository");
            foreach (var (k, v) in m.Tags ?? new Dictionary<string, string>())
            {
                output.Line($"tag        {k}: {v}");
            }

            if (m.Cluster is { } c)
            {
                output.Line($"cluster    {c.SystemIdentifier}, PostgreSQL {c.ServerVersionText}, data checksums {(c.DataChecksums ? "on" : "off")}");
                output.Line($"wal        timeline {c.Timeline}, LSN {c.StartLsn} ({c.StartWal}) .. {c.StopLsn} ({c.StopWal})");
                output.Line($"consistent from {CliOutput.Time(c.StopTime)} (the earliest point this backup restores to)");
                foreach (var ts in c.Tablespaces)
                {
                    output.Line($"tablespace {ts.Oid} {ts.Name} at {ts.Location}");
                }

                foreach (var error in c.PageChecksumErrors)
                {
                    output.Line($"DAMAGED PAGE {error}");
                }
            }

            if (m.Kind == SourceKinds.Database && m.Dump is { } d)
            {
                PrintDump(output, d);
            }

            return 0;
        }, new Dictionary<string, string> { ["backup"] = "BACKUP_ID" }));
        return command;
    }

    private static void PrintDump(CliOutput output, DumpDetails d)
    {
        output.Line($"database   {d.Database} (PostgreSQL {d.ServerVersion}, {d.Encoding}, {CliOutput.Size(d.DatabaseSize)}), dumped by {d.PgDump}{(d.SchemaOnly ? ", schema only" : "")}");
        output.Line($"globals    {d.Globals} (roles and tablespaces in globals.sql)");
        if (d.Contents is not { } c)
        {
            return;
        }

        foreach (var (label, names) in new[] { ("schemas", c.Schemas), ("tables", c.Tables), ("views", c.Views), ("owners", c.Owners) })
        {
            if (names is not { Count: > 0 })
            {
                continue;
            }

            var line = new System.Text.StringBuilder();
            var first = true;
            foreach (var name in names)
            {
                if (line.Length + name.Length > 100)
                {
                    output.Line($"{(first ? $"{label} ({names.Count})" : ""),-10} {line.ToString().TrimEnd(',', ' ')}");
                    first = false;
                    line.Clear();
                }

                line.Append(name).Append(", ");
            }

            output.Line($"{(first ? $"{label} ({names.Count})" : ""),-10} {line.ToString().TrimEnd(',', ' ')}");
        }

        if (c.Objects is { } objects)
        {
            output.Line($"objects    {string.Join(", ", objects.Select(kv => $"{kv.Value} {kv.Key}"))}");
        }
    }
}
