using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.UseCases.Health;
using Lifeboat.Engine.UseCases.Sources;
using Lifeboat.Engine.UseCases.Wal;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat source add-cluster | check | archiving setup | wal-push | wal-fetch</c>.</summary>
internal static class ClusterCommands
{
    public static Command AddCluster(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var pgdata = new Option<string>("--pgdata") { Description = "The cluster's data directory", Required = true, HelpName = "DIR" };
        var conn = new Option<string>("--conn") { Description = "How to connect: libpq keyword/value (\"host=/var/run/postgresql user=postgres\"), a postgresql:// URI or Npgsql's form; PG* variables, pg_service.conf and ~/.pgpass apply as in libpq", Required = true, HelpName = "CONNSTRING" };
        var command = new Command("add-cluster", "Add a PostgreSQL cluster (physical backups and continuous WAL archiving) as a source") { name, pgdata, conn };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddClusterSource>().ExecuteAsync(new AddClusterSourceRequest(parse.GetValue(name)!, parse.GetValue(pgdata)!, parse.GetValue(conn)!), ct);
            PrintAdded(call.Output, result);
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    /// <summary>An added source: the server it was checked against, what could not be checked, where it went, what comes next.</summary>
    internal static void PrintAdded(CliOutput output, AddSourceResult result)
    {
        if (result.Connected is { } connected)
        {
            output.Line($"connected to {connected}");
        }

        foreach (var warning in result.Warnings)
        {
            output.Warn(warning);
        }

        output.Line($"added source '{result.Name}' ({result.Description}) to {result.ConfigPath}");
        if (result.Next.Count > 0)
        {
            output.Line("next: " + string.Join(", then ", result.Next));
        }
    }

    public static Command Check(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Check only this source", HelpName = "NAME" };
        var json = RepoCommands.JsonOption();
        var command = new Command("check", "Find every problem that would make a backup fail or be unrestorable; exit 0 only when all is well") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            var result = await call.Get<RunChecks>().ExecuteAsync(new RunChecksRequest(parse.GetValue(source)), ct);
            if (output.Json)
            {
                output.WriteJson(result, LifeboatJson.Default.RunChecksResult);
            }
            else
            {
                output.Table(
                    ["SOURCE", "CHECK", "STATUS", "DETAIL"],
                    result.Checks.Select(r => new[] { r.Source, r.Name, r.Status switch { CheckStatus.Ok => "ok", CheckStatus.Warning => "WARNING", _ => "FAILED" }, r.Detail }));
                foreach (var r in result.Checks.Where(r => r.Fix is not null && r.Status != CheckStatus.Ok))
                {
                    output.Line($"fix {(r.Source.Length > 0 ? r.Source + ": " : "")}{r.Name}: {r.Fix}");
                }

                output.Line(result.Ok ? $"all checks passed{(result.Warnings > 0 ? $" ({result.Warnings} warning(s))" : "")}" : $"{result.Failed} check(s) failed");
            }

            return result.Ok ? 0 : ErrorCode.Config.ToExitCode();
        }));
        return command;
    }

    public static Command Archiving(CliApp app)
    {
        var source = new Option<string>("--source") { Description = "The cluster source", Required = true, HelpName = "NAME" };
        var apply = new Option<bool>("--apply") { Description = "Apply the settings with ALTER SYSTEM and reload (otherwise only print them)" };
        var timeout = new Option<int>("--archive-timeout") { Description = "archive_timeout in seconds: the longest an idle server waits before archiving (bounds the RPO)", DefaultValueFactory = _ => 60 };
        var setup = new Command("setup", "Print (or apply) the settings continuous WAL archiving needs") { source, apply, timeout };
        setup.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var output = call.Output;
            var plan = await call.Get<SetupArchiving>().ExecuteAsync(new SetupArchivingRequest(parse.GetValue(source)!, parse.GetValue(apply), parse.GetValue(timeout)), ct);
            foreach (var s in plan.Settings)
            {
                output.Line(s.Changes ? $"{s.Sql}   -- was {(s.Current.Length == 0 ? "empty" : s.Current)}" : $"-- {s.Name} is already {s.Wanted}");
            }

            if (plan.Settings.All(s => !s.Changes))
            {
                output.Line("nothing to change: archiving is set up" + (plan.RestartNeeded ? "; restart PostgreSQL to activate wal_level/archive_mode" : ""));
                return 0;
            }

            if (!plan.Applied)
            {
                output.Line($"run again with --apply to apply these settings{(plan.RestartNeeded ? "; wal_level and archive_mode then need a restart of PostgreSQL" : "")}");
                return 0;
            }

            output.Line("applied with ALTER SYSTEM and reloaded" + (plan.RestartNeeded ? "; RESTART PostgreSQL now so that wal_level and archive_mode take effect" : "; no restart needed"));
            return 0;
        }));
        var probeSource = new Option<string?>("--source") { Description = "The cluster source (needed when the configuration has several)", HelpName = "NAME" };
        var probeJson = RepoCommands.JsonOption();
        var probe = new Command("probe", "What wal-push does before it stores a segment, as this OS user: read the configuration and the key, open the repository, write and delete an object where the WAL goes (`check` runs it as the server's user)") { probeSource, probeJson };
        probe.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(probeJson), ct, async call =>
        {
            var result = await call.Get<ProbeArchiving>().ExecuteAsync(new ProbeArchivingRequest(parse.GetValue(probeSource)), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ArchivingProbeResult);
            }
            else
            {
                call.Output.Line($"as OS user '{result.User}': read {result.ConfigFile}, opened {result.Repository} ({result.Key}), wrote and deleted {result.Wrote}");
            }

            return 0;
        }));
        var archiving = new Command("archiving", "Continuous WAL archiving");
        archiving.Subcommands.Add(setup);
        archiving.Subcommands.Add(probe);
        return archiving;
    }

    /// <summary>
    /// PostgreSQL's archive_command. Exit 0 only when the primary target holds the file durably; anything on stderr is
    /// what the server log shows. A secondary that failed is a warning, not a failure.
    /// </summary>
    public static Command WalPush(CliApp app)
    {
        var path = new Argument<string>("WAL_PATH") { Description = "%p: the WAL file to archive" };
        var source = new Option<string?>("--source") { Description = "The cluster source (needed when the configuration has several)", HelpName = "NAME" };
        var command = new Command("wal-push", "archive_command: archive one WAL file (durable before exit 0; never overwrites)") { path, source };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var report = await call.Get<PushWal>().ExecuteAsync(new PushWalRequest(parse.GetValue(path)!, parse.GetValue(source)), ct);
            if (report.Primary == PushOutcome.AlreadyArchived)
            {
                call.Output.Warn($"WAL file {report.File} was already archived with the same content; nothing was written (this happens when PostgreSQL retries after a crash)");
            }

            foreach (var failed in report.Secondaries.Where(s => s.Error is not null))
            {
                call.Output.Warn($"WAL file {report.File} is archived in the primary target but not in target '{failed.Target}': {failed.Error}; `lifeboat replicate --to {failed.Target}` catches it up");
            }

            return 0;
        }, new Dictionary<string, string> { ["path"] = "WAL_PATH" }));
        return command;
    }

    /// <summary>
    /// PostgreSQL's restore_command: exit 0 with the file written, 1 when no target has it (the end of the archive). Any
    /// other failure exits 128 + its usual code (129, 130, 131 for damage): PostgreSQL takes every exit code up to 125
    /// for "not there" and ends recovery early, and aborts recovery on a code above 125.
    /// </summary>
    public static Command WalFetch(CliApp app)
    {
        const int NotInArchive = 1;
        const int StopRecovery = 128;
        var name = new Argument<string>("WAL_NAME") { Description = "%f: the WAL file PostgreSQL wants" };
        var dest = new Argument<string>("DEST_PATH") { Description = "%p: where to write it" };
        var source = new Option<string?>("--source") { Description = "The cluster source (needed when the configuration has several)", HelpName = "NAME" };
        var from = new Option<string?>("--from") { Description = "Read from this target first (primary or a secondary); the others are tried next", HelpName = "TARGET" };
        var command = new Command("wal-fetch", "restore_command: restore one archived WAL file from the first target that has it; exit 1 when none has it, 128 + the exit code when it cannot be restored (recovery stops)") { name, dest, source, from };
        command.SetAction((parse, ct) =>
        {
            var notInArchive = false;
            return app.ExecuteAsync(parse, json: false, ct, async call =>
            {
                var walName = parse.GetValue(name)!;
                var result = await call.Get<FetchWal>().ExecuteAsync(new FetchWalRequest(walName, parse.GetValue(dest)!, parse.GetValue(source), parse.GetValue(from)), ct);
                foreach (var note in result.Notes.Where(n => !n.EndsWith(": not archived", StringComparison.Ordinal)))
                {
                    call.Output.Note($"lifeboat: {note}");
                }

                if (result.Found)
                {
                    if (result.Spooled)
                    {
                        call.Output.Note($"lifeboat: {walName} restored from the prefetch spool");
                    }

                    return 0;
                }

                call.Output.Note($"lifeboat: {walName} is not in the archive");
                notInArchive = true;
                return NotInArchive;
            }, new Dictionary<string, string> { ["name"] = "WAL_NAME", ["destination"] = "DEST_PATH" }, code => notInArchive ? NotInArchive : StopRecovery + code);
        });
        return command;
    }
    /// <summary>
    /// The WAL prefetcher that wal-fetch starts (detached) during a recovery; not for people, hence hidden. Its output goes
    /// nowhere (wal-fetch starts it with /dev/null for all three streams); its exit code is 0 whatever happened, since
    /// nobody waits for it and wal-fetch reads the repository itself whenever the spool does not have a segment.
    /// </summary>
    public static Command WalPrefetch(CliApp app)
    {
        var spool = new Argument<string>("SPOOL") { Description = "the spool directory (PGDATA/pg_wal/lifeboat-spool/KEY)" };
        var after = new Argument<string>("WAL_NAME") { Description = "the segment wal-fetch restored: prefetch the ones after it" };
        var pgdata = new Option<string>("--pgdata") { Description = "The data directory being recovered", HelpName = "DIR", Required = true };
        var source = new Option<string?>("--source") { Description = "The cluster source", HelpName = "NAME" };
        var from = new Option<string?>("--from") { Description = "Read from this target first", HelpName = "TARGET" };
        var command = new Command("wal-prefetch", "internal: the WAL prefetcher started by wal-fetch (docs/cli.md, WAL prefetch)") { spool, after, pgdata, source, from };
        command.Hidden = true;
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            await call.Get<PrefetchWal>().ExecuteAsync(new PrefetchWalRequest(parse.GetValue(spool)!, parse.GetValue(pgdata)!, parse.GetValue(after)!, parse.GetValue(source), parse.GetValue(from)), ct);
            return 0;
        }));
        return command;
    }
}
