using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Catalog;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Operations;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat expire | pin | unpin | catalog rebuild | schedule list|run|export | status</c>.</summary>
internal static class OperationsCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        yield return Expire(app);
        yield return Pin(app, pin: true);
        yield return Pin(app, pin: false);
        yield return CatalogCommand(app);
        yield return ScheduleCommand(app);
        yield return Status(app);
    }

    private static Command Expire(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only this source", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Explain every decision and delete nothing" };
        var json = RepoCommands.JsonOption();
        var command = new Command("expire", "Apply the retention policies: explain every decision, delete expired backups and unneeded WAL, prune") { source, dryRun, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            using var bar = output.Progress("expire");
            var report = await ExpireService.RunAsync(context, parse.GetValue(source), parse.GetValue(dryRun), new Progress<string>(s => bar.Update(0, s)), ct);
            bar.Dispose();
            var several = report.Targets.Count > 1;
            if (output.Json)
            {
                var doc = DescribeExpire(report.Sources, report.Prune);
                doc["dryRun"] = report.DryRun;
                if (several)
                {
                    doc["targets"] = new JsonArray(report.Targets.Select(t =>
                    {
                        var node = DescribeExpire(t.Sources, t.Prune);
                        node["target"] = t.Target;
                        node["error"] = t.Error?.Message;
                        return (JsonNode)node;
                    }).ToArray());
                }

                output.WriteJson(doc);
            }
            else
            {
                foreach (var t in report.Targets)
                {
                    if (several)
                    {
                        output.Line($"target {t.Target}:{(t.Error is null ? "" : " FAILED")}");
                    }

                    PrintExpire(output, t, report.DryRun, several ? "  " : "");
                }
            }

            var failures = report.Failures.ToList();
            foreach (var f in failures)
            {
                output.Note($"lifeboat: expire failed on target {f.Target}: {f.Error!.Message}");
            }

            if (failures.Count > 0)
            {
                output.Note($"lifeboat: {failures.Count} of {report.Targets.Count} target(s) failed; expire went on with the others");
                return failures.Max(f => f.Error!.ExitCode);
            }

            return 0;
        }));
        return command;
    }

    private static JsonObject DescribeExpire(IReadOnlyList<ExpireSourcePlan> sources, Lifeboat.Repository.Maintenance.PruneReport? prune) => new()
    {
        ["sources"] = new JsonArray(sources.Select(s => (JsonNode)new JsonObject
        {
            ["source"] = s.Source,
            ["policy"] = s.Policy.ToString(),
            ["decisions"] = new JsonArray(s.Decisions.Select(d => (JsonNode)new JsonObject
            {
                ["id"] = d.Id,
                ["time"] = d.Time,
                ["keep"] = d.Keep,
                ["reasons"] = new JsonArray(d.Reasons.Select(r => (JsonNode?)r).ToArray()),
            }).ToArray()),
            ["wal"] = s.Wal is null ? null : new JsonObject
            {
                ["kept"] = s.Wal.Kept,
                ["deleted"] = s.Wal.Deleted,
                ["deletedBytes"] = s.Wal.DeletedBytes,
                ["continuousFrom"] = s.Wal.ContinuousFrom,
            },
        }).ToArray()),
        ["bytesFreed"] = prune?.BytesFreed,
    };

    private static void PrintExpire(CliOutput output, ExpireTargetReport report, bool dryRun, string indent)
    {
        foreach (var s in report.Sources)
        {
            output.Line($"{indent}{s.Source}: {s.Policy}");
            foreach (var d in s.Decisions)
            {
                output.Line($"{indent}  {(d.Keep ? "kept" : dryRun ? "would delete" : "deleted")} {d.Id} ({CliOutput.Time(d.Time)}): {string.Join("; ", d.Reasons)}");
            }

            if (s.Wal is { } w)
            {
                output.Line($"{indent}  WAL: {(dryRun ? "would delete" : "deleted")} {w.Deleted} file(s) ({CliOutput.Size(w.DeletedBytes)}), kept {w.Kept}{(w.ContinuousFrom is null ? "" : $", continuous from {w.ContinuousFrom}")}");
            }
        }

        if (report.Prune is { } p)
        {
            output.Line($"{indent}pruned: {p.PacksDeleted} pack(s) deleted, {p.PacksRepacked} repacked, {CliOutput.Size(p.BytesFreed)} freed");
        }
    }

    private static Command Pin(CliApp app, bool pin)
    {
        var id = new Argument<string>("BACKUP_ID");
        var reason = new Option<string?>("--reason") { Description = "Why (shown by list)" };
        var command = pin
            ? new Command("pin", "Keep a backup whatever the retention policy says") { id, reason }
            : new Command("unpin", "Let retention decide about a backup again") { id };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var backupId = parse.GetValue(id)!;
            if (pin)
            {
                await repository.PinAsync(backupId, parse.GetValue(reason), ct);
                output.Line($"pinned backup {backupId}: expire will keep it");
            }
            else
            {
                await repository.LoadManifestAsync(backupId, ct);
                await repository.UnpinAsync(backupId, ct);
                output.Line($"unpinned backup {backupId}");
            }

            return 0;
        }));
        return command;
    }

    private static Command CatalogCommand(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var rebuild = new Command("rebuild", "Rebuild the catalog's view of backups and WAL from the repository; report orphans") { json };
        rebuild.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            var catalog = await context.OpenCatalogAsync(ct);
            var report = await new CatalogRebuilder(repository, catalog).RebuildAsync(null, ct);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["catalog"] = catalog.Display,
                    ["backups"] = report.Backups,
                    ["walFiles"] = report.WalFiles,
                    ["damagedManifests"] = report.DamagedManifests,
                    ["unreferencedPacks"] = new JsonArray(report.UnreferencedPacks.Select(p => (JsonNode?)p).ToArray()),
                    ["manifestsWithMissingChunks"] = new JsonArray(report.ManifestsWithMissingChunks.Select(m => (JsonNode)new JsonObject { ["backup"] = m.BackupId, ["missingChunks"] = m.MissingChunks }).ToArray()),
                    ["seconds"] = Math.Round(report.Elapsed.TotalSeconds, 3),
                });
                return 0;
            }

            output.Line($"rebuilt {catalog.Display} from {repository.DisplayName} in {CliOutput.Duration(report.Elapsed)}: {report.Backups} backup(s), {report.WalFiles} WAL file(s)");
            output.Line(report.UnreferencedPacks.Count == 0 ? "no unreferenced packs" : $"{report.UnreferencedPacks.Count} unreferenced pack(s) (prune removes them): {string.Join(", ", report.UnreferencedPacks.Take(5))}{(report.UnreferencedPacks.Count > 5 ? ", …" : "")}");
            foreach (var (backup, missing) in report.ManifestsWithMissingChunks)
            {
                output.Warn($"backup {backup}: {missing} chunk(s) it needs are missing");
            }

            return 0;
        }));
        var catalogCommand = new Command("catalog", "The catalog: run history and a cache of the repository");
        catalogCommand.Subcommands.Add(rebuild);
        return catalogCommand;
    }

    private static Command ScheduleCommand(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var list = new Command("list", "List schedules with their next and last runs") { json };
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var schedules = context.Options.Schedules.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new Schedule(s.Key, s.Value)).ToList();
            Dictionary<string, ScheduleState> states = [];
            try
            {
                states = await (await context.OpenCatalogAsync(ct)).ScheduleStatesAsync(ct);
            }
            catch (LifeboatException ex)
            {
                output.Warn(ex.Message);
            }

            var now = context.Time.GetUtcNow();
            if (output.Json)
            {
                output.WriteJson(new JsonArray(schedules.Select(s => (JsonNode)new JsonObject
                {
                    ["name"] = s.Name,
                    ["kind"] = s.Kind,
                    ["source"] = s.Source,
                    ["cron"] = s.Options.Cron,
                    ["timeZone"] = s.Options.TimeZone ?? "UTC",
                    ["next"] = s.Next(now),
                    ["lastRun"] = states.GetValueOrDefault(s.Name)?.LastRun,
                    ["lastStatus"] = states.GetValueOrDefault(s.Name)?.LastStatus,
                }).ToArray()));
                return 0;
            }

            if (schedules.Count == 0)
            {
                output.Line("no schedules are configured (Schedules:NAME in the configuration file)");
                return 0;
            }

            output.Table(["NAME", "KIND", "SOURCE", "CRON", "NEXT", "LAST", "STATUS"], schedules.Select(s => new[]
            {
                s.Name, s.Kind, s.Source ?? "", s.Options.Cron + (s.Options.TimeZone is null ? "" : $" ({s.Options.TimeZone})"),
                s.Next(now) is { } n ? CliOutput.Time(n) : "never",
                states.GetValueOrDefault(s.Name)?.LastRun is { } l ? CliOutput.Time(l) : "",
                states.GetValueOrDefault(s.Name)?.LastStatus ?? "",
            }));
            return 0;
        }));

        var name = new Argument<string>("NAME");
        var run = new Command("run", "Run a schedule's job now (under its source's operation lock)") { name };
        run.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var scheduleName = parse.GetValue(name)!;
            if (!context.Options.Schedules.TryGetValue(scheduleName, out var options))
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"there is no schedule '{scheduleName}'", "`lifeboat schedule list` shows the schedules");
            }

            var result = await JobRunner.RunAsync(context, new Schedule(scheduleName, options), ct);
            if (result.Succeeded)
            {
                output.Line($"{scheduleName}: {result.Summary}");
                return 0;
            }

            output.Error.WriteLine($"lifeboat: schedule {scheduleName} failed after {result.Attempts} attempt(s): {result.Error}");
            return ErrorCode.Failed.ToExitCode();
        }));

        var format = new Option<string>("--format") { Description = "systemd or cron", Required = true };
        format.AcceptOnlyFromAmong("systemd", "cron");
        var user = new Option<string>("--user") { Description = "The OS user the jobs run as", DefaultValueFactory = _ => "postgres" };
        var dir = new Option<string?>("--output") { Description = "systemd: write the units into this directory (default: print them)", HelpName = "DIR" };
        var export = new Command("export", "Print the schedules as crontab lines or systemd units") { format, user, dir };
        export.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var schedules = context.Options.Schedules.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => new Schedule(s.Key, s.Value)).ToList();
            var self = LifeboatCommand.Self(context.Environment);
            if (parse.GetValue(format) == "cron")
            {
                output.Out.Write(ScheduleExport.Cron(schedules, self, context.ConfigFile.Path, parse.GetValue(user)!));
                return Task.FromResult(0);
            }

            var units = ScheduleExport.Systemd(schedules, self, context.ConfigFile.Path, parse.GetValue(user)!);
            if (parse.GetValue(dir) is { } target)
            {
                var path = context.ResolvePath(target);
                Directory.CreateDirectory(path);
                foreach (var (file, content) in units)
                {
                    File.WriteAllText(Path.Combine(path, file), content);
                }

                output.Line($"wrote {units.Count} unit(s) to {path}; enable the timers with: systemctl enable --now {string.Join(' ', units.Where(u => u.File.EndsWith(".timer", StringComparison.Ordinal)).Select(u => u.File))}");
            }
            else
            {
                foreach (var (file, content) in units)
                {
                    output.Out.WriteLine($"# ---- {file}");
                    output.Out.Write(content);
                }
            }

            return Task.FromResult(0);
        }));

        var schedule = new Command("schedule", "Scheduled jobs");
        schedule.Subcommands.Add(list);
        schedule.Subcommands.Add(run);
        schedule.Subcommands.Add(export);
        return schedule;
    }

    private static Command Status(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only this source", HelpName = "NAME" };
        var json = RepoCommands.JsonOption();
        var command = new Command("status", "Health of every source: exit 0 healthy, 1 warning, 2 critical") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var report = await HealthService.RunAsync(context, parse.GetValue(source), ct);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["state"] = report.Overall.ToString().ToLowerInvariant(),
                    ["at"] = report.At,
                    ["checks"] = new JsonArray(report.Checks.Select(c => (JsonNode)new JsonObject
                    {
                        ["source"] = c.Source.Length == 0 ? null : c.Source,
                        ["check"] = c.Name,
                        ["state"] = c.State.ToString().ToLowerInvariant(),
                        ["detail"] = c.Detail,
                    }).ToArray()),
                    ["drills"] = new JsonArray(report.Drills.Select(d => (JsonNode)d.ToJson()).ToArray()),
                });
            }
            else
            {
                output.Table(["SOURCE", "CHECK", "STATE", "DETAIL"], report.Checks.Select(c => new[] { c.Source, c.Name, c.State.ToString().ToLowerInvariant(), c.Detail }));
                output.Line($"overall: {report.Overall.ToString().ToLowerInvariant()}");
            }

            return (int)report.Overall;
        }));
        return command;
    }
}
