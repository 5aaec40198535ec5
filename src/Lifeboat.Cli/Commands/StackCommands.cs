using System.CommandLine;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Format;

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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var stackName = parse.GetValue(name)!;
            SourceNames.Validate(stackName, "stack name");
            var members = parse.GetValue(sources)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            var options = context.ConfigFile.Exists ? context.Options : new LifeboatOptions();
            if (options.Stacks.ContainsKey(stackName))
            {
                throw new LifeboatException(ErrorCode.Refused, $"a stack named '{stackName}' already exists in {context.ConfigFile.Path}", $"choose another name, or remove it first with `lifeboat stack remove {stackName}`");
            }

            if (members.Count == 0)
            {
                throw new LifeboatException(ErrorCode.Usage, "--sources names no source", "give the application's sources, for example --sources app-db,uploads,app-config");
            }

            var unknown = members.Where(m => !options.Sources.ContainsKey(m)).ToList();
            if (unknown.Count > 0)
            {
                var known = options.Sources.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", options.Sources.Keys.Order(StringComparer.Ordinal));
                throw new LifeboatException(ErrorCode.InvalidInput, $"stack '{stackName}' names {(unknown.Count == 1 ? "a source" : "sources")} that {(unknown.Count == 1 ? "is" : "are")} not configured: {string.Join(", ", unknown)} ({known})", "add the sources first (`lifeboat source add-…`), or fix the names");
            }

            // Bad input leaves the file as it was.
            var twice = members.GroupBy(m => m, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null)
            {
                throw new LifeboatException(ErrorCode.Usage, $"--sources names '{twice.Key}' twice", "list each source once");
            }

            context.ConfigFile.Edit(root => ConfigFile.Section(root, "Stacks")[stackName] = new JsonObject
            {
                ["Sources"] = new JsonArray(members.Select(m => (JsonNode?)m).ToArray()),
            });
            context.Reload();
            var ordered = StackService.Ordered(context, stackName);
            output.Line($"added stack '{stackName}' to {context.ConfigFile.Path}");
            output.Line("  a stack backup takes, in order: " + string.Join(", ", ordered.Select(m => $"{m.Name} ({m.Source.Kind})")));
            output.Line($"  back it up with `lifeboat backup --stack {stackName}`");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var backups = new Option<bool>("--backups") { Description = "Also list the stack backups in the repository" };
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the configured stacks (and with --backups their stack backups)") { backups, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var stacks = context.Options.Stacks.OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            List<(StackRecord Record, List<string> Missing)> records = [];
            if (parse.GetValue(backups))
            {
                await using var repository = await context.OpenRepositoryAsync(ct);
                records = await StackService.ListAsync(repository, null, ct);
            }

            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["stacks"] = new JsonArray(stacks.Select(s => (JsonNode)new JsonObject
                    {
                        ["name"] = s.Key,
                        ["sources"] = new JsonArray(StackService.Ordered(context, s.Key).Select(m => (JsonNode)new JsonObject { ["name"] = m.Name, ["kind"] = m.Source.Kind }).ToArray()),
                    }).ToArray()),
                    ["backups"] = new JsonArray(records.Select(r => (JsonNode)Describe(r.Record, r.Missing)).ToArray()),
                });
                return 0;
            }

            if (stacks.Count == 0)
            {
                output.Line($"no stacks in {context.ConfigFile.Path}; add one with `lifeboat stack add NAME --sources A,B,C`");
            }
            else
            {
                output.Table(["NAME", "SOURCES (backup order)"], stacks.Select(s => new[] { s.Key, string.Join(", ", StackService.Ordered(context, s.Key).Select(m => $"{m.Name} ({m.Source.Kind})")) }));
            }

            if (parse.GetValue(backups))
            {
                output.Line("");
                if (records.Count == 0)
                {
                    output.Line("no stack backups in the repository");
                }
                else
                {
                    output.Table(
                        ["STACK BACKUP", "STACK", "FINISHED", "MEMBERS", "STATE"],
                        records.Select(r => new[]
                        {
                            r.Record.Id,
                            r.Record.Stack,
                            r.Record.Finished.ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture),
                            string.Join(", ", r.Record.Members.Select(m => $"{m.Source}={m.Backup}")),
                            r.Missing.Count == 0 ? "complete" : "incomplete: " + string.Join(", ", r.Missing) + " gone",
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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var stackName = parse.GetValue(name)!;
            context.GetStack(stackName);
            var schedules = context.Options.Schedules.Where(s => s.Value.Stack == stackName).Select(s => s.Key).ToList();
            if (schedules.Count > 0)
            {
                throw new LifeboatException(ErrorCode.Refused, $"stack '{stackName}' is run by the schedule(s) {string.Join(", ", schedules)}", "remove those schedules first");
            }

            context.ConfigFile.Edit(root => ConfigFile.Section(root, "Stacks").Remove(stackName));
            output.Line($"removed stack '{stackName}' from {context.ConfigFile.Path}; its sources and backups stay");
            return Task.FromResult(0);
        }));
        return command;
    }

    internal static JsonObject Describe(StackRecord record, IReadOnlyList<string> missing) => new()
    {
        ["id"] = record.Id,
        ["stack"] = record.Stack,
        ["started"] = record.Started,
        ["finished"] = record.Finished,
        ["complete"] = missing.Count == 0,
        ["members"] = new JsonArray(record.Members.Select(m => (JsonNode)new JsonObject { ["source"] = m.Source, ["kind"] = m.Kind, ["backup"] = m.Backup, ["present"] = !missing.Contains(m.Backup) }).ToArray()),
        ["points"] = new JsonArray(record.Points.Select(p => (JsonNode)new JsonObject { ["source"] = p.Source, ["restorePoint"] = p.RestorePoint, ["lsn"] = p.Lsn, ["timeline"] = p.Timeline, ["time"] = p.Time }).ToArray()),
    };

    /// <summary><c>backup --stack NAME</c>.</summary>
    internal static async Task<int> BackupAsync(EngineContext context, CliOutput output, string stackName, string? type, CancellationToken cancellationToken)
    {
        var started = context.Time.GetTimestamp();
        var outcome = await StackService.BackupAsync(context, stackName, type, new Progress<string>(output.Note), cancellationToken);
        var problems = outcome.Problems.ToList();
        foreach (var problem in problems)
        {
            output.Warn(problem);
        }

        if (output.Json)
        {
            var doc = Describe(outcome.Record, []);
            doc["problems"] = new JsonArray(problems.Select(p => (JsonNode?)p).ToArray());
            output.WriteJson(doc);
        }
        else
        {
            output.Line($"stack backup {outcome.Record.Id} of '{stackName}' completed in {CliOutput.Duration(context.Time.GetElapsedTime(started))}");
            foreach (var m in outcome.Members)
            {
                output.Line($"  {m.Manifest.Source} ({m.Manifest.Kind}): backup {m.Manifest.Id}, {CliOutput.Size(m.Manifest.Stats.Bytes)}, stored {CliOutput.Size(m.Manifest.Stats.StoredBytes)}");
            }

            foreach (var p in outcome.Record.Points)
            {
                output.Line($"  stack point in '{p.Source}': restore point {p.RestorePoint} at {p.Lsn} (timeline {p.Timeline}), {p.Time:yyyy-MM-dd HH:mm:ss zzz}");
            }

            if (outcome.Replication is { } replication)
            {
                TargetCommands.Print(output, replication);
            }
        }

        if (outcome.ReplicationError is { } replicationError)
        {
            output.Warn($"stack backup {outcome.Record.Id} is committed on the primary target, but replication did not run: {replicationError}; run `lifeboat replicate`");
        }

        foreach (var f in outcome.Replication?.Failures ?? [])
        {
            output.Warn($"stack backup {outcome.Record.Id} is committed on the primary target, but not replicated to target {f.Display}: {f.Error!.Message}; `lifeboat replicate --to {f.Target}` catches it up");
        }

        return problems.Count > 0 ? ErrorCode.Failed.ToExitCode() : 0;
    }

    /// <summary><c>restore --stack NAME --to DIR [--target-time T] [--backup STACK_ID]</c>.</summary>
    internal static async Task<int> RestoreAsync(EngineContext context, CliOutput output, StackRestoreRequest request, CancellationToken cancellationToken)
    {
        var started = context.Time.GetTimestamp();
        var outcome = await StackService.RestoreAsync(context, request, new Progress<string>(output.Note), cancellationToken);
        if (output.Json)
        {
            var doc = Describe(outcome.Record, []);
            doc["destination"] = outcome.Destination;
            doc["restored"] = new JsonArray(outcome.Members.Select(m => (JsonNode)new JsonObject
            {
                ["source"] = m.Source,
                ["kind"] = m.Kind,
                ["backup"] = m.Backup,
                ["directory"] = m.Directory,
                ["recoveryTarget"] = m.RecoveryTarget,
            }).ToArray());
            doc["startOrder"] = new JsonArray(outcome.StartOrder.Select(s => (JsonNode?)s).ToArray());
            output.WriteJson(doc);
            return 0;
        }

        output.Line($"restored stack backup {outcome.Record.Id} of '{outcome.Record.Stack}' to {outcome.Destination} in {CliOutput.Duration(context.Time.GetElapsedTime(started))}");
        foreach (var m in outcome.Members)
        {
            output.Line($"  {m.Source} ({m.Kind}, backup {m.Backup}) → {m.Directory}" + (m.RecoveryTarget is null ? "" : $"; recovers to {m.RecoveryTarget}"));
        }

        if (request.TargetTime is not null)
        {
            output.Note($"lifeboat: the clusters recover to {request.TargetTime}, later than the stack's point; files and config are as of stack backup {outcome.Record.Id}, so rows written after {outcome.Record.Finished:yyyy-MM-dd HH:mm:ss zzz} may name files that are not here");
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
