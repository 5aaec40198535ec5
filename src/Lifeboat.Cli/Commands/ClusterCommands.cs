using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Core;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Configuration;
using Lifeboat.Postgres.Control;
using Lifeboat.Postgres.Server;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat source add-cluster | check | archiving setup | wal-push | wal-fetch</c>.</summary>
internal static class ClusterCommands
{
    public static Command AddCluster(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Source name: lower-case letters, digits, '.', '_', '-'" };
        var pgdata = new Option<string>("--pgdata") { Description = "The cluster's data directory", Required = true, HelpName = "DIR" };
        var conn = new Option<string>("--conn") { Description = "Npgsql connection string, e.g. Host=/var/run/postgresql;Username=postgres", Required = true, HelpName = "CONNSTRING" };
        var command = new Command("add-cluster", "Add a PostgreSQL cluster (physical backups and continuous WAL archiving) as a source") { name, pgdata, conn };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var sourceName = parse.GetValue(name)!;
            SourceNames.Validate(sourceName, "source name");
            var dir = context.ResolvePath(parse.GetValue(pgdata)!);
            var control = PgControl.Read(dir);
            var connection = parse.GetValue(conn)!;
            try
            {
                await using var server = await PgServer.ConnectAsync(connection, ct);
                var info = await server.GetInfoAsync(ct);
                if (info.SystemIdentifier != control.SystemIdentifier)
                {
                    throw new LifeboatException(ErrorCode.InvalidInput, $"the server at {server.Display} is the cluster {info.SystemIdentifier}, but {dir} holds the cluster {control.SystemIdentifier}", "--conn and --pgdata must name the same cluster");
                }

                output.Line($"connected to {server.Display}: PostgreSQL {info.Version}");
            }
            catch (LifeboatException ex) when (ex.Code is ErrorCode.PostgresFailed)
            {
                output.Warn($"{ex.Message}; the source is added anyway — run `lifeboat check --source {sourceName}` once the server is up");
            }

            SourceCommands.AddSource(context.ConfigFile, context.ConfigFile.Exists ? context.Options : null, sourceName, new JsonObject
            {
                ["Kind"] = SourceKinds.Cluster,
                ["PgData"] = dir,
                ["Connection"] = connection,
                ["SystemIdentifier"] = control.SystemIdentifier.ToString(CultureInfo.InvariantCulture),
            });
            output.Line($"added source '{sourceName}' (cluster {control.SystemIdentifier}, PostgreSQL {control.MajorVersion}, {dir}) to {context.ConfigFile.Path}");
            output.Line($"next: `lifeboat archiving setup --source {sourceName} --apply`, then `lifeboat check --source {sourceName}`");
            return 0;
        }));
        return command;
    }

    public static Command Check(CliApp app)
    {
        var source = new Option<string?>("--source") { Description = "Check only this source", HelpName = "NAME" };
        var json = RepoCommands.JsonOption();
        var command = new Command("check", "Find every problem that would make a backup fail or be unrestorable; exit 0 only when all is well") { source, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var results = await ClusterChecks.RunAsync(context, parse.GetValue(source), ct);
            var failed = results.Count(r => r.Status == CheckStatus.Failed);
            var warnings = results.Count(r => r.Status == CheckStatus.Warning);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["ok"] = failed == 0,
                    ["failed"] = failed,
                    ["warnings"] = warnings,
                    ["checks"] = new JsonArray(results.Select(r => (JsonNode)new JsonObject
                    {
                        ["source"] = r.Source.Length == 0 ? null : r.Source,
                        ["check"] = r.Name,
                        ["status"] = r.Status.ToString().ToLowerInvariant(),
                        ["detail"] = r.Detail,
                        ["fix"] = r.Fix,
                    }).ToArray()),
                });
            }
            else
            {
                output.Table(
                    ["SOURCE", "CHECK", "STATUS", "DETAIL"],
                    results.Select(r => new[] { r.Source, r.Name, r.Status switch { CheckStatus.Ok => "ok", CheckStatus.Warning => "WARNING", _ => "FAILED" }, r.Detail }));
                foreach (var r in results.Where(r => r.Fix is not null && r.Status != CheckStatus.Ok))
                {
                    output.Line($"fix {(r.Source.Length > 0 ? r.Source + ": " : "")}{r.Name}: {r.Fix}");
                }

                output.Line(failed == 0 ? $"all checks passed{(warnings > 0 ? $" ({warnings} warning(s))" : "")}" : $"{failed} check(s) failed");
            }

            return failed == 0 ? 0 : ErrorCode.Config.ToExitCode();
        }));
        return command;
    }

    public static Command Archiving(CliApp app)
    {
        var source = new Option<string>("--source") { Description = "The cluster source", Required = true, HelpName = "NAME" };
        var apply = new Option<bool>("--apply") { Description = "Apply the settings with ALTER SYSTEM and reload (otherwise only print them)" };
        var timeout = new Option<int>("--archive-timeout") { Description = "archive_timeout in seconds: the longest an idle server waits before archiving (bounds the RPO)", DefaultValueFactory = _ => 60 };
        var setup = new Command("setup", "Print (or apply) the settings continuous WAL archiving needs") { source, apply, timeout };
        setup.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var (name, options) = WalService.ClusterSource(context, parse.GetValue(source));
            var command = LifeboatCommand.ArchiveCommand(LifeboatCommand.Self(context.Environment), context.ConfigFile.Path, name);
            var plan = await ArchivingSetup.RunAsync(options, command, TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(apply), ct);
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
        var archiving = new Command("archiving", "Continuous WAL archiving");
        archiving.Subcommands.Add(setup);
        return archiving;
    }

    public static Command WalPush(CliApp app)
    {
        var path = new Argument<string>("WAL_PATH") { Description = "%p: the WAL file to archive" };
        var source = new Option<string?>("--source") { Description = "The cluster source (needed when the configuration has several)", HelpName = "NAME" };
        var command = new Command("wal-push", "archive_command: archive one WAL file (durable before exit 0; never overwrites)") { path, source };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var report = await WalService.PushAsync(context, parse.GetValue(source), parse.GetValue(path)!, ct);
            if (report.Primary == PushOutcome.AlreadyArchived)
            {
                output.Warn($"WAL file {report.File} was already archived with the same content; nothing was written (this happens when PostgreSQL retries after a crash)");
            }

            foreach (var failed in report.Secondaries.Where(s => s.Error is not null))
            {
                output.Warn($"WAL file {report.File} is archived in the primary target but not in target '{failed.Target}': {failed.Error}; `lifeboat replicate --to {failed.Target}` catches it up");
            }

            return 0;
        }));
        return command;
    }

    public static Command WalFetch(CliApp app)
    {
        var name = new Argument<string>("WAL_NAME") { Description = "%f: the WAL file PostgreSQL wants" };
        var dest = new Argument<string>("DEST_PATH") { Description = "%p: where to write it" };
        var source = new Option<string?>("--source") { Description = "The cluster source (needed when the configuration has several)", HelpName = "NAME" };
        var from = new Option<string?>("--from") { Description = "Read from this target first (primary or a secondary); the others are tried next", HelpName = "TARGET" };
        var command = new Command("wal-fetch", "restore_command: restore one archived WAL file from the first target that has it; exit 1 when none has it") { name, dest, source, from };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var result = await WalService.FetchAsync(context, parse.GetValue(source), parse.GetValue(name)!, parse.GetValue(dest)!, parse.GetValue(from), ct);
            foreach (var note in result.Notes.Where(n => !n.EndsWith(": not archived", StringComparison.Ordinal)))
            {
                output.Note($"lifeboat: {note}");
            }

            if (result.Found)
            {
                return 0;
            }

            output.Note($"lifeboat: {parse.GetValue(name)} is not in the archive");
            return 1;
        }));
        return command;
    }
}
