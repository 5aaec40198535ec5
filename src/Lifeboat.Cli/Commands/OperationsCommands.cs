using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Schedules;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat expire | pin | unpin | catalog rebuild | schedule list|run|export | status | runbook</c>.</summary>
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
        yield return RunbookCommands.Create(app);
    }

    private static Command Expire(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Only this source", HelpName = "NAME" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Explain every decision and delete nothing" };
        var json = RepoCommands.JsonOption();
        var command = new Command("expire", "Apply the retention policies: explain every decision, delete expired backups and unneeded WAL, prune") { source, dryRun, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            ExpireReport report;
            using (call.ShowProgress("expire"))
            {
                report = await call.Get<ExpireBackups>().ExecuteAsync(new ExpireBackupsRequest(parse.GetValue(source), parse.GetValue(dryRun)), ct);
            }

            var several = report.AllTargets.Count > 1;
            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.ExpireReport);
            }
            else
            {
                foreach (var t in report.AllTargets)
                {
                    if (several)
                    {
                        output.Line($"target {t.Target}:{(t.FailureDetails() is null ? "" : " FAILED")}");
                    }

                    PrintExpire(output, t, report.DryRun, several ? "  " : "");
                }
            }

            var failures = report.Failures.ToList();
            foreach (var f in failures)
            {
                output.Note($"lifeboat: expire failed on target {f.Target}: {f.FailureDetails()!.Message}");
            }

            if (failures.Count > 0)
            {
                output.Note($"lifeboat: {failures.Count} of {report.AllTargets.Count} target(s) failed; expire went on with the others");
                return failures.Max(f => f.FailureDetails()!.ExitCode);
            }

            return 0;
        }));
        return command;
    }

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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<PinBackup>().ExecuteAsync(new PinBackupRequest(parse.GetValue(id)!, pin, pin ? parse.GetValue(reason) : null), ct);
            call.Output.Line(result.Pinned ? $"pinned backup {result.Backup}: expire will keep it" : $"unpinned backup {result.Backup}");
            return 0;
        }, new Dictionary<string, string> { ["backup"] = "BACKUP_ID" }));
        return command;
    }

    private static Command CatalogCommand(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var rebuild = new Command("rebuild", "Rebuild the catalog's view of backups and WAL from the repository; report orphans") { json };
        rebuild.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            RebuildCatalogResult report;
            using (call.ShowProgress("catalog rebuild"))
            {
                report = await call.Get<RebuildCatalog>().ExecuteAsync(new RebuildCatalogRequest(), ct);
            }

            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.RebuildCatalogResult);
                return 0;
            }

            output.Line($"rebuilt {report.Catalog} from {report.Repository} in {CliOutput.Duration(TimeSpan.FromSeconds(report.Seconds))}: {report.Backups} backup(s), {report.WalFiles} WAL file(s)");
            output.Line(report.UnreferencedPacks.Count == 0 ? "no unreferenced packs" : $"{report.UnreferencedPacks.Count} unreferenced pack(s) (prune removes them): {string.Join(", ", report.UnreferencedPacks.Take(5))}{(report.UnreferencedPacks.Count > 5 ? ", …" : "")}");
            foreach (var m in report.ManifestsWithMissingChunks)
            {
                output.Warn($"backup {m.Backup}: {m.MissingChunks} chunk(s) it needs are missing");
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
        list.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            var result = await call.Get<ListSchedules>().ExecuteAsync(new ListSchedulesRequest(), ct);
            foreach (var warning in result.Warnings)
            {
                output.Warn(warning);
            }

            if (output.Json)
            {
                output.WriteJson(result.Schedules, LifeboatJson.Default.IReadOnlyListScheduleView);
                return 0;
            }

            if (result.Schedules.Count == 0)
            {
                output.Line("no schedules are configured (Schedules:NAME in the configuration file)");
                return 0;
            }

            output.Table(["NAME", "KIND", "SOURCE", "CRON", "NEXT", "LAST", "STATUS"], result.Schedules.Select(s => new[]
            {
                s.Name, s.Kind, s.Source ?? "", s.Cron + (s.TimeZoneConfigured ? $" ({s.TimeZone})" : ""),
                s.Next is { } n ? CliOutput.Time(n) : "never",
                s.LastRun is { } l ? CliOutput.Time(l) : "",
                s.LastStatus ?? "",
            }));
            return 0;
        }));

        var name = new Argument<string>("NAME");
        var run = new Command("run", "Run a schedule's job now (under its source's operation lock)") { name };
        run.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<RunSchedule>().ExecuteAsync(new RunScheduleRequest(parse.GetValue(name)!), ct);
            if (result.Succeeded)
            {
                call.Output.Line($"{result.Schedule}: {result.Summary}");
                return 0;
            }

            call.Output.Error.WriteLine($"lifeboat: schedule {result.Schedule} failed after {result.Attempts} attempt(s): {result.Error}");
            return ErrorCode.Failed.ToExitCode();
        }, new Dictionary<string, string> { ["name"] = "NAME" }));

        var format = new Option<string>("--format") { Description = "systemd or cron", Required = true };
        format.AcceptOnlyFromAmong("systemd", "cron");
        var user = new Option<string>("--user") { Description = "The OS user the jobs run as", DefaultValueFactory = _ => "postgres" };
        var dir = new Option<string?>("--output") { Description = "systemd: write the units into this directory (default: print them)", HelpName = "DIR" };
        var export = new Command("export", "Print the schedules as crontab lines or systemd units") { format, user, dir };
        export.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var output = call.Output;
            var result = await call.Get<ExportSchedules>().ExecuteAsync(new ExportSchedulesRequest(parse.GetValue(format)!, parse.GetValue(user)!, parse.GetValue(dir)), ct);
            if (result.Format == "cron")
            {
                foreach (var file in result.Files)
                {
                    output.Out.Write(file.Content);
                }
            }
            else if (result.WrittenTo is { } path)
            {
                output.Line($"wrote {result.Files.Count} unit(s) to {path}; enable the timers with: systemctl enable --now {string.Join(' ', result.Files.Where(u => u.File.EndsWith(".timer", StringComparison.Ordinal)).Select(u => u.File))}");
            }
            else
            {
                foreach (var file in result.Files)
                {
                    output.Out.WriteLine($"# ---- {file.File}");
                    output.Out.Write(file.Content);
                }
            }

            return 0;
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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            var report = await call.Get<GetStatus>().ExecuteAsync(new GetStatusRequest(parse.GetValue(source)), ct);
            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.HealthReport);
            }
            else
            {
                output.Table(["SOURCE", "CHECK", "STATE", "DETAIL"], report.Checks.Select(c => new[] { c.Source, c.Name, StateText(c.State), c.Detail }));
                output.Line($"overall: {StateText(report.Overall)}");
            }

            return (int)report.Overall;
        }));
        return command;
    }

    /// <summary>A health state as the JSON document spells it: healthy, warning, critical.</summary>
    internal static string StateText(HealthState state) => state.ToString().ToLowerInvariant();
}
