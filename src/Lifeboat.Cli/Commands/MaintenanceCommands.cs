using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Repository.Maintenance;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat verify | forget | prune</c>.</summary>
internal static class MaintenanceCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        yield return Verify(app);
        yield return Forget(app);
        yield return Prune(app);
    }

    private static Command Verify(CliApp app)
    {
        var backup = new Option<string?>("--backup") { Description = "Check only this backup", HelpName = "ID" };
        var readData = new Option<bool>("--read-data") { Description = "Read every pack and archived WAL file: decrypt, decompress and re-hash every chunk" };
        var json = RepoCommands.JsonOption();
        var command = new Command("verify", "Check the repository; exit 3 when something is damaged") { backup, readData, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var output = call.Output;
            VerifyRepositoryResult report;
            using (call.ShowProgress("verify"))
            {
                report = await call.Get<VerifyRepository>().ExecuteAsync(new VerifyRepositoryRequest(parse.GetValue(backup), parse.GetValue(readData)), ct);
            }

            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.VerifyRepositoryResult);
            }
            else
            {
                output.Line($"checked {report.Backups} backup(s), {report.IndexObjects} index object(s), {report.Packs} pack(s), {report.ChunkReferences} chunk reference(s), {report.WalFiles} archived WAL file(s)" +
                            (report.ReadData ? $"; read {report.PacksRead} pack(s) and {report.WalFilesRead} WAL file(s), {CliOutput.Size(report.BytesRead)}" : ""));
                foreach (var note in report.Notes)
                {
                    output.Line("note: " + note);
                }

                if (report.Healthy)
                {
                    output.Line("no damage found");
                }
            }

            if (report.Healthy)
            {
                return 0;
            }

            foreach (var d in report.Damage)
            {
                output.Error.WriteLine($"lifeboat: damaged: {d.Object}: {d.Problem}; affects {(d.AffectedBackups.Count == 0 ? "no backup" : "backups " + string.Join(", ", d.AffectedBackups))}");
            }

            var damage = report.ToException();
            output.Error.WriteLine($"lifeboat: {report.Damage.Count} damaged object(s); backups affected: {(report.AffectedBackups.Count == 0 ? "none" : string.Join(", ", report.AffectedBackups))}");
            output.Error.WriteLine("hint: " + damage.Hint);
            return damage.ExitCode;
        }));
        return command;
    }

    private static Command Forget(CliApp app)
    {
        var ids = new Argument<string[]>("BACKUP_ID") { Arity = ArgumentArity.OneOrMore };
        var prune = new Option<bool>("--prune") { Description = "Prune afterwards, to free the space" };
        var command = new Command("forget", "Delete backups (their data is freed by prune; other backups are never affected)") { ids, prune };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<ForgetBackups>().ExecuteAsync(new ForgetBackupsRequest(parse.GetValue(ids)!, parse.GetValue(prune)), ct);
            foreach (var id in result.Forgotten)
            {
                call.Output.Line($"forgot backup {id}");
            }

            foreach (var stack in result.Stacks)
            {
                call.Output.Line($"forgot stack point {stack} (a member backup is gone)");
            }

            if (result.Prune is { } report)
            {
                PrintPrune(call.Output, report);
            }

            return 0;
        }, new Dictionary<string, string> { ["backup"] = "BACKUP_ID" }));
        return command;
    }

    private static Command Prune(CliApp app)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be removed" };
        var threshold = new Option<double>("--repack-threshold") { Description = "Repack packs with more than this share unused (0-1)", DefaultValueFactory = _ => 0.2 };
        var json = RepoCommands.JsonOption();
        var command = new Command("prune", "Remove data no backup needs") { dryRun, threshold, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            PruneReport report;
            using (call.ShowProgress("prune"))
            {
                report = await call.Get<PruneRepository>().ExecuteAsync(new PruneRepositoryRequest(parse.GetValue(dryRun), parse.GetValue(threshold)), ct);
            }

            if (call.Output.Json)
            {
                call.Output.WriteJson(report, LifeboatJson.Default.PruneReport);
                return 0;
            }

            PrintPrune(call.Output, report);
            return 0;
        }));
        return command;
    }

    internal static void PrintPrune(CliOutput output, PruneReport r)
    {
        var verb = r.DryRun ? "would" : "did";
        output.Line($"{r.Backups} backup(s) keep data in {r.PacksBefore} pack(s), {CliOutput.Size(r.BytesBefore)}");
        output.Line($"prune {verb} delete {r.PacksDeleted} unused pack(s), repack {r.PacksRepacked}, delete {r.UnreferencedPacksDeleted} unreferenced pack(s); {r.ChunksRemoved} chunk(s) removed");
        output.Line($"space freed: {CliOutput.Size(r.BytesFreed)}" + (r.DryRun ? " (at most)" : $" ({CliOutput.Size(r.BytesRewritten)} rewritten)"));
    }
}
