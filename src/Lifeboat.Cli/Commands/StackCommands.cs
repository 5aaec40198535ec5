using System.CommandLine;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.UseCases.Stacks;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat stack add | list | remove</c>, and the stack forms of backup and restore.</summary>
internal static class StackCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var stack = new Command("stack", "Stacks: the sources of one application, backed up and restored together as one consistent point")
        {
            Add(app),
            List(app),
            Remove(app),
        };
        yield return stack;
    }

    private static Command Add(CliApp app)
    {
        var name = new Argument<string>("NAME");
        var sources = new Option<string>("--sources") { Description = "The application's sources, comma-separated (databases, clusters, files, config sets)", Required = true, HelpName = "A,B,C" };
        var command = new Command("add", "Define a stack") { name, sources };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var members = parse.GetValue(sources)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var result = await call.Get<AddStack>().ExecuteAsync(new AddStackRequest(parse.GetValue(name)!, members), ct);
            call.Output.Line($"added stack '{result.Name}' to {result.ConfigPath}");
            call.Output.Line("  a stack backup takes, in order: " + string.Join(", ", result.Order.Select(m => $"{m.Name} ({m.Kind})")));
            call.Output.Line($"  back it up with `lifeboat backup --stack {result.Name}`");
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var backups = new Option<bool>("--backups") { Description = "Also list the stack backups in the repository" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the configured stacks (and with --backups their stack backups)") { backups, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListStacks>().ExecuteAsync(new ListStacksRequest(parse.GetValue(backups)), ct);
            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(result, LifeboatJson.Default.ListStacksResult);
                return 0;
            }

            if (result.Stacks.Count == 0)
            {
                output.Line($"no stacks in {result.ConfigPath}; add one with `lifeboat stack add NAME --sources A,B,C`");
            }
            else
            {
                output.Table(["NAME", "SOURCES (backup order)"], result.Stacks.Select(s => new[] { s.Name, string.Join(", ", s.Sources.Select(m => $"{m.Name} ({m.Kind})")) }));
            }

            if (parse.GetValue(backups))
            {
                output.Line("");
                if (result.Backups.Count == 0)
                {
                    output.Line("no stack backups in the repository");
                }
                else
                {
                    output.Table(
                        ["STACK BACKUP", "STACK", "FINISHED", "MEMBERS", "STATE"],
                        result.Backups.Select(r => new[]
                        {
                            r.Id,
                            r.Stack,
                            r.Finished.ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture),
                            string.Join(", ", r.Members.Select(m => $"{m.Source}={m.Backup}")),
                            r.Complete ? "complete" : "incomplete: " + string.Join(", ", r.Members.Where(m => !m.Present).Select(m => m.Backup)) + " gone",
                        }));
                }
            }

            return 0;
        }));
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = new Argument<string>("NAME");
        var command = new Command("remove", "Remove a stack from the configuration (its sources and all backups stay)") { name };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<RemoveStack>().ExecuteAsync(new RemoveStackRequest(parse.GetValue(name)!), ct);
            call.Output.Line($"removed stack '{result.Name}' from {result.ConfigPath}; its sources and backups stay");
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME" }));
        return command;
    }

    /// <summary><c>backup --stack NAME</c>.</summary>
    internal static async Task<int> BackupAsync(CliCall call, string stackName, string? type, CancellationToken cancellationToken)
    {
        var output = call.Output;
        var started = call.Time.GetTimestamp();
        BackupStackResult outcome;
        using (call.ShowProgress("backup " + stackName))
        {
            outcome = await call.Get<BackupStack>().ExecuteAsync(new BackupStackRequest(stackName, type), cancellationToken);
        }

        foreach (var problem in outcome.Problems.Concat(outcome.Warnings ?? []))
        {
            output.Warn(problem);
        }

        if (output.Json)
        {
            output.WriteJson(outcome, LifeboatJson.Default.BackupStackResult);
        }
        else
        {
            output.Line($"stack backup {outcome.Id} of '{stackName}' completed in {CliOutput.Duration(call.Time.GetElapsedTime(started))}");
            foreach (var m in outcome.MemberBackups)
            {
                output.Line($"  {m.Source} ({m.Kind}): backup {m.Id}, {CliOutput.Size(m.Stats.Bytes)}, stored {CliOutput.Size(m.Stats.StoredBytes)}");
            }

            foreach (var p in outcome.Points)
            {
                output.Line($"  stack point in '{p.Source}': restore point {p.RestorePoint} at {p.Lsn} (timeline {p.Timeline}), {p.Time:yyyy-MM-dd HH:mm:ss zzz}");
            }

            if (outcome.Replication is { } replication)
            {
                TargetCommands.Print(output, replication);
            }
        }

        BackupCommands.WarnReplication(output, $"stack backup {outcome.Id}", outcome.Replication, outcome.ReplicationError);
        return outcome.Problems.Count > 0 ? ErrorCode.Failed.ToExitCode() : 0;
    }

    /// <summary><c>restore --stack NAME --to DIR [--target-time T] [--backup STACK_ID] [--archive-mode off]</c>.</summary>
    internal static async Task<int> RestoreAsync(CliCall call, RestoreStackRequest request, CancellationToken cancellationToken)
    {
        var output = call.Output;
        var started = call.Time.GetTimestamp();
        RestoreStackResult outcome;
        using (call.ShowProgress("restore " + request.Stack))
        {
            outcome = await call.Get<RestoreStack>().ExecuteAsync(request, cancellationToken);
        }

        if (output.Json)
        {
            output.WriteJson(outcome, LifeboatJson.Default.RestoreStackResult);
            return 0;
        }

        output.Line($"restored stack backup {outcome.Id} of '{outcome.Stack}' to {outcome.Destination} in {CliOutput.Duration(call.Time.GetElapsedTime(started))}");
        foreach (var m in outcome.Restored)
        {
            output.Line($"  {m.Source} ({m.Kind}, backup {m.Backup}) → {m.Directory}" + (m.RecoveryTarget is null ? "" : $"; recovers to {m.RecoveryTarget}"));
        }

        if (request.TargetTime is not null)
        {
            output.Note($"lifeboat: the clusters recover to {request.TargetTime}, later than the stack's point; files and config are as of stack backup {outcome.Id}, so rows written after {outcome.Finished:yyyy-MM-dd HH:mm:ss zzz} may name files that are not here");
        }

        output.Line("start, in this order:");
        var step = 1;
        foreach (var s in outcome.StartOrder)
        {
            output.Line($"  {step++}. {s}");
        }

        return 0;
    }
}
