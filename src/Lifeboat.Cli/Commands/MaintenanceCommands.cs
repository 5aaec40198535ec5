using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Locks;
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
        var readData = new Option<bool>("--read-data") { Description = "Read every pack: decrypt, decompress and re-hash every chunk" };
        var json = RepoCommands.JsonOption();
        var command = new Command("verify", "Check the repository; exit 3 when something is damaged") { backup, readData, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: false, "verify", ct);
            VerifyReport report;
            using (var bar = output.Progress("verify"))
            {
                report = await new Verifier(repository).VerifyAsync(
                    new VerifyOptions { ReadData = parse.GetValue(readData), BackupId = parse.GetValue(backup) },
                    new Progress<string>(s => bar.Update(0, s)),
                    ct);
            }

            var locks = await RepositoryLock.ListAsync(repository, ct);
            foreach (var stale in locks.Where(l => l.IsStale))
            {
                report.Notes.Add($"stale {stale.Lock.Describe()} ({stale.StaleReason}); remove it with `lifeboat repo unlock`");
            }

            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["repository"] = repository.DisplayName,
                    ["healthy"] = report.IsHealthy,
                    ["readData"] = parse.GetValue(readData),
                    ["backups"] = report.Backups,
                    ["indexObjects"] = report.IndexObjects,
                    ["packs"] = report.Packs,
                    ["chunkReferences"] = report.Chunks,
                    ["packsRead"] = report.PacksRead,
                    ["bytesRead"] = report.BytesRead,
                    ["damage"] = new JsonArray(report.Damage.Select(d => (JsonNode)new JsonObject
                    {
                        ["object"] = d.Object,
                        ["problem"] = d.Problem,
                        ["affectedBackups"] = new JsonArray(d.AffectedBackups.Select(b => (JsonNode?)b).ToArray()),
                    }).ToArray()),
                    ["affectedBackups"] = new JsonArray(report.AffectedBackups.Select(b => (JsonNode?)b).ToArray()),
                    ["notes"] = new JsonArray(report.Notes.Select(n => (JsonNode?)n).ToArray()),
                });
            }
            else
            {
                output.Line($"checked {report.Backups} backup(s), {report.IndexObjects} index object(s), {report.Packs} pack(s), {report.Chunks} chunk reference(s)" +
                            (parse.GetValue(readData) ? $"; read {report.PacksRead} pack(s), {CliOutput.Size(report.BytesRead)}" : ""));
                foreach (var note in report.Notes)
                {
                    output.Line("note: " + note);
                }

                if (report.IsHealthy)
                {
                    output.Line("no damage found");
                }
            }

            if (report.IsHealthy)
            {
                return 0;
            }

            foreach (var d in report.Damage)
            {
                output.Error.WriteLine($"lifeboat: damaged: {d.Object}: {d.Problem}; affects {(d.AffectedBackups.Count == 0 ? "no backup" : "backups " + string.Join(", ", d.AffectedBackups))}");
            }

            output.Error.WriteLine($"lifeboat: {report.Damage.Count} damaged object(s); backups affected: {(report.AffectedBackups.Count == 0 ? "none" : string.Join(", ", report.AffectedBackups))}");
            output.Error.WriteLine("hint: restore the damaged objects from a replica (`lifeboat replicate`), or forget the affected backups and take a new one; `lifeboat repo rebuild-index` repairs a damaged index");
            return ErrorCode.Damage.ToExitCode();
        }));
        return command;
    }

    private static Command Forget(CliApp app)
    {
        var ids = new Argument<string[]>("BACKUP_ID") { Arity = ArgumentArity.OneOrMore };
        var prune = new Option<bool>("--prune") { Description = "Prune afterwards, to free the space" };
        var command = new Command("forget", "Delete backups (their data is freed by prune; other backups are never affected)") { ids, prune };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            await using var repository = await context.OpenRepositoryAsync(ct);
            await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "forget", ct);
            var backupIds = parse.GetValue(ids)!;
            var pinned = await repository.PinnedAsync(ct);
            foreach (var id in backupIds)
            {
                await repository.LoadManifestAsync(id, ct); // exists and is a backup id
                if (pinned.Contains(id))
                {
                    throw new LifeboatException(ErrorCode.Refused, $"backup {id} is pinned", $"unpin it first with `lifeboat unpin {id}` if it really must go");
                }
            }

            foreach (var id in backupIds)
            {
                await repository.DeleteManifestAsync(id, ct);
                output.Line($"forgot backup {id}");
            }

            await RunRecorder.ForgetBackupsAsync(context, backupIds, ct);

            if (parse.GetValue(prune))
            {
                var report = await new Pruner(repository).PruneAsync(new PruneOptions(), null, ct);
                PrintPrune(output, report);
            }

            return 0;
        }));
        return command;
    }

    private static Command Prune(CliApp app)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be removed" };
        var threshold = new Option<double>("--repack-threshold") { Description = "Repack packs with more than this share unused (0-1)", DefaultValueFactory = _ => 0.2 };
        var json = RepoCommands.JsonOption();
        var command = new Command("prune", "Remove data no backup needs") { dryRun, threshold, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var t = parse.GetValue(threshold);
            if (t is < 0 or > 1)
            {
                throw new LifeboatException(ErrorCode.Usage, $"--repack-threshold {t} is out of range", "use a share between 0 and 1, for example 0.2");
            }

            await using var repository = await context.OpenRepositoryAsync(ct);
            await using var repositoryLock = await RepositoryLock.AcquireAsync(repository, exclusive: true, "prune", ct);
            PruneReport report;
            using (var bar = output.Progress("prune"))
            {
                report = await new Pruner(repository).PruneAsync(new PruneOptions { DryRun = parse.GetValue(dryRun), RepackThreshold = t }, new Progress<string>(s => bar.Update(0, s)), ct);
            }

            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["dryRun"] = report.DryRun,
                    ["backups"] = report.Backups,
                    ["packsBefore"] = report.PacksBefore,
                    ["packsDeleted"] = report.PacksDeleted,
                    ["packsRepacked"] = report.PacksRepacked,
                    ["unreferencedPacksDeleted"] = report.UnreferencedPacksDeleted,
                    ["chunksRemoved"] = report.ChunksRemoved,
                    ["bytesBefore"] = report.BytesBefore,
                    ["bytesFreed"] = report.BytesFreed,
                    ["bytesRewritten"] = report.BytesRewritten,
                    ["indexObjectsBefore"] = report.IndexObjectsBefore,
                    ["indexObjectsAfter"] = report.IndexObjectsAfter,
                });
                return 0;
            }

            PrintPrune(output, report);
            return 0;
        }));
        return command;
    }

    private static void PrintPrune(CliOutput output, PruneReport r)
    {
        var verb = r.DryRun ? "would" : "did";
        output.Line($"{r.Backups} backup(s) keep data in {r.PacksBefore} pack(s), {CliOutput.Size(r.BytesBefore)}");
        output.Line($"prune {verb} delete {r.PacksDeleted} unused pack(s), repack {r.PacksRepacked}, delete {r.UnreferencedPacksDeleted} unreferenced pack(s); {r.ChunksRemoved} chunk(s) removed");
        output.Line($"space freed: {CliOutput.Size(r.BytesFreed)}" + (r.DryRun ? " (at most)" : $" ({CliOutput.Size(r.BytesRewritten)} rewritten)"));
    }
}
