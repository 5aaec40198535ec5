using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Operations;
using Lifeboat.Postgres;
using Lifeboat.Postgres.Wal;
using Lifeboat.Repository.Format;

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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var stackName = parse.GetValue(stack);
            if ((stackName is null) == (parse.GetValue(source) is null))
            {
                throw new LifeboatException(ErrorCode.Usage, "backup needs exactly one of --source NAME and --stack NAME", "see `lifeboat backup --help`; `lifeboat source list` and `lifeboat stack list` show the names");
            }

            if (stackName is not null)
            {
                return await StackCommands.BackupAsync(context, output, stackName, parse.GetValue(type), ct);
            }

            var name = parse.GetValue(source)!;
            using var bar = output.Progress("backup " + name);
            var outcome = await BackupService.RunAsync(context, name, parse.GetValue(type), new Progress<Engine.Files.BackupProgress>(p =>
                bar.Update(p.BytesRead, $"{p.Files} files, {ByteSize.Format(p.NewBytes)} new")), ct);
            bar.Dispose();
            var m = outcome.Manifest;
            foreach (var problem in outcome.Problems)
            {
                output.Warn(problem);
            }

            if (output.Json)
            {
                var doc = Describe(m);
                doc["problems"] = new JsonArray(outcome.Problems.Select(p => (JsonNode?)p).ToArray());
                if (outcome.Replication is { } replication)
                {
                    doc["replication"] = TargetCommands.Describe(replication);
                }

                output.WriteJson(doc);
            }
            else
            {
                output.Line($"backup {m.Id} of '{m.Source}' ({m.Type}) completed in {CliOutput.Duration(m.Finished - m.Started)}");
                output.Line($"  {m.Stats.Files} files, {m.Stats.Dirs} directories, {CliOutput.Size(m.Stats.Bytes)}");
                output.Line($"  read {CliOutput.Size(m.Stats.BytesRead)} ({m.Stats.UnchangedFiles} files unchanged), new data {CliOutput.Size(m.Stats.NewBytes)}, stored {CliOutput.Size(m.Stats.StoredBytes)}");
                if (outcome.Replication is { } replication)
                {
                    TargetCommands.Print(output, replication);
                }
            }

            // A secondary that failed does not fail the backup (committed on the primary): reported, caught up later.
            if (outcome.ReplicationError is { } replicationError)
            {
                output.Warn($"backup {m.Id} is committed on the primary target, but replication did not run: {replicationError}; run `lifeboat replicate`");
            }

            foreach (var f in outcome.Replication?.Failures ?? [])
            {
                output.Warn($"backup {m.Id} is committed on the primary target, but not replicated to target {f.Display}: {f.Error!.Message}; `lifeboat replicate --to {f.Target}` catches it up");
            }

            if (outcome.Problems.Count > 0)
            {
                output.Note($"lifeboat: {outcome.Problems.Count} path(s) could not be read; the backup holds everything else");
                return ErrorCode.Failed.ToExitCode();
            }

            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only backups of this source", HelpName = "NAME" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List backups") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var (manifests, damaged) = await repository.LoadAllManifestsAsync(ct);
            var filter = parse.GetValue(source);
            var shown = manifests.Where(m => filter is null || m.Source == filter).ToList();
            foreach (var (id, error) in damaged)
            {
                output.Warn($"backup {id}: {error}");
            }

            var windows = await WindowsAsync(repository, shown, ct);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["repository"] = repository.DisplayName,
                    ["backups"] = new JsonArray(shown.Select(m => (JsonNode)Describe(m)).ToArray()),
                    ["recoverable"] = new JsonArray(windows.Select(w => (JsonNode)new JsonObject { ["source"] = w.Source, ["timelines"] = RestoreCommands.Window(w.Timelines) }).ToArray()),
                    ["damaged"] = new JsonArray(damaged.Select(d => (JsonNode)new JsonObject { ["id"] = d.Id, ["error"] = d.Error }).ToArray()),
                });
                return damaged.Count > 0 ? ErrorCode.Damage.ToExitCode() : 0;
            }

            if (shown.Count == 0)
            {
                output.Line(filter is null ? $"no backups in {repository.DisplayName}" : $"no backups of '{filter}' in {repository.DisplayName}");
                return damaged.Count > 0 ? ErrorCode.Damage.ToExitCode() : 0;
            }

            output.Table(
                ["ID", "SOURCE", "KIND", "TYPE", "STARTED", "DURATION", "SIZE", "STORED"],
                shown.Select(m => new[] { m.Id, m.Source, m.Kind, m.Type, CliOutput.Time(m.Started), CliOutput.Duration(m.Finished - m.Started), CliOutput.Size(m.Stats.Bytes), CliOutput.Size(m.Stats.StoredBytes) }));
            output.Line($"{shown.Count} backup(s), {CliOutput.Size(shown.Sum(m => m.Stats.Bytes))} in all, {CliOutput.Size(shown.Sum(m => m.Stats.StoredBytes))} stored");
            foreach (var w in windows)
            {
                foreach (var t in w.Timelines)
                {
                    output.Line($"recoverable: '{w.Source}' timeline {t.Timeline}: {CliOutput.Time(t.Earliest)} .. {(t.Latest is { } l ? CliOutput.Time(l) : "incomplete (WAL missing)")}");
                }
            }
            return damaged.Count > 0 ? ErrorCode.Damage.ToExitCode() : 0;
        }));
        return command;
    }

    private static Command Info(CliApp app)
    {
        var id = new Argument<string>("BACKUP_ID");
        var json = RepoCommands.JsonOption();
        var command = new Command("info", "Show one backup") { id, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var m = await repository.LoadManifestAsync(parse.GetValue(id)!, ct);
            if (output.Json)
            {
                output.WriteJson(Describe(m));
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
            output.Line($"chunks     {m.Stats.Chunks} ({m.Stats.NewChunks} new, {CliOutput.Size(m.Stats.NewBytes)}); tree in {m.Tree.Count} chunks");
            output.Line($"stored     {CliOutput.Size(m.Stats.StoredBytes)} added to the repository");
            foreach (var (k, v) in m.Tags ?? [])
            {
                output.Line($"tag        {k}: {v}");
            }

            if (ClusterBackupInfo.FromDetails(m.Details) is { } c)
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

            if (m.Kind == Engine.Configuration.SourceKinds.Database && m.Details is { } d)
            {
                PrintDump(output, d);
            }

            return 0;
        }));
        return command;
    }

    private static void PrintDump(CliOutput output, JsonObject d)
    {
        output.Line($"database   {d["database"]} (PostgreSQL {d["serverVersion"]}, {d["encoding"]}, {CliOutput.Size(d["databaseSize"]?.GetValue<long>() ?? 0)}), dumped by {d["pgDump"]}{(d["schemaOnly"]?.GetValue<bool>() == true ? ", schema only" : "")}");
        output.Line($"globals    {d["globals"]} (roles and tablespaces in globals.sql)");
        if (d["contents"] is not JsonObject c)
        {
            return;
        }

        foreach (var (label, key) in new[] { ("schemas", "schemas"), ("tables", "tables"), ("views", "views"), ("owners", "owners") })
        {
            var names = (c[key]?.AsArray() ?? []).Select(n => n!.GetValue<string>()).ToList();
            if (names.Count == 0)
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

        if (c["objects"] is JsonObject objects)
        {
            output.Line($"objects    {string.Join(", ", objects.Select(kv => $"{kv.Value} {kv.Key}"))}");
        }
    }

    /// <summary>The recoverable window of every cluster source among the backups.</summary>
    private static async Task<List<(string Source, List<TimelineWindow> Timelines)>> WindowsAsync(Repository.Repository repository, List<Manifest> manifests, CancellationToken cancellationToken)
    {
        var result = new List<(string, List<TimelineWindow>)>();
        var clusters = manifests
            .Select(m => (Manifest: m, Info: ClusterBackupInfo.FromDetails(m.Details)))
            .Where(x => x.Info is not null)
            .GroupBy(x => (x.Manifest.Source, x.Info!.SystemId));
        foreach (var group in clusters)
        {
            var backups = group.Select(x => new PhysicalBackup(x.Manifest, x.Info!)).OrderBy(b => b.Info.StopTime).ToList();
            var archive = new WalArchive(repository, group.Key.Source, group.Key.SystemId, backups[^1].Info.WalSegmentSize);
            var spans = await RecoveryWindow.ComputeAsync(archive, backups, cancellationToken);
            result.Add((group.Key.Source, RecoveryWindow.ByTimeline(spans)));
        }

        return result;
    }

    internal static JsonObject Describe(Manifest m) => new()
    {
        ["id"] = m.Id,
        ["source"] = m.Source,
        ["kind"] = m.Kind,
        ["type"] = m.Type,
        ["parent"] = m.Parent,
        ["started"] = m.Started,
        ["finished"] = m.Finished,
        ["durationSeconds"] = Math.Round((m.Finished - m.Started).TotalSeconds, 3),
        ["host"] = m.Host,
        ["paths"] = m.Paths is null ? null : new JsonArray(m.Paths.Select(p => (JsonNode?)p).ToArray()),
        ["stats"] = new JsonObject
        {
            ["files"] = m.Stats.Files,
            ["dirs"] = m.Stats.Dirs,
            ["bytes"] = m.Stats.Bytes,
            ["bytesRead"] = m.Stats.BytesRead,
            ["unchangedFiles"] = m.Stats.UnchangedFiles,
            ["chunks"] = m.Stats.Chunks,
            ["newChunks"] = m.Stats.NewChunks,
            ["newBytes"] = m.Stats.NewBytes,
            ["storedBytes"] = m.Stats.StoredBytes,
            ["treeChunks"] = m.Stats.TreeChunks,
        },
        ["tags"] = m.Tags is null ? null : new JsonObject(m.Tags.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        ["details"] = m.Details?.DeepClone(),
    };
}
