using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Replication;
using Lifeboat.Repository;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat repo target add|list|remove | target verify | replicate</c>.</summary>
internal static class TargetCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var target = new Command("target", "Check a target of the repository");
        target.Subcommands.Add(Verify(app));
        yield return target;
        yield return Replicate(app);
    }

    /// <summary><c>repo target</c>: the secondary targets holding replicas of the repository.</summary>
    public static Command RepoTarget(CliApp app)
    {
        var command = new Command("target", "Manage the secondary targets that hold replicas of the repository (off-site copies)");
        command.Subcommands.Add(Add(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Remove(app));
        return command;
    }

    private static Command Add(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "Target name: lower-case letters, digits, '.', '_', '-' (not 'primary')" };
        var url = new Argument<string>("URL") { Description = "file:///abs/path, s3://…, azure://…, sftp://… (no secrets in the URL)" };
        var retention = new Option<string?>("--retention") { Description = "This target's retention: 90d (keep what restores any point of the last 90 days), or last=N,daily=N,weekly=N,monthly=N,yearly=N,window=DURATION,min=N", HelpName = "POLICY" };
        var noWal = new Option<bool>("--no-wal-push") { Description = "wal-push does not write here; WAL arrives by replication only" };
        var manual = new Option<bool>("--manual") { Description = "Do not replicate after every backup; only `lifeboat replicate` copies here" };
        var command = new Command("add", "Add a secondary target, check it can be used, and make it a replica (copying happens on the next backup or `lifeboat replicate`)") { name, url, retention, noWal, manual };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async (context, output) =>
        {
            var targetName = parse.GetValue(name)!;
            TargetOptions.ValidateName(targetName, "target name");
            if (context.Options.Targets.ContainsKey(targetName))
            {
                throw new LifeboatException(ErrorCode.InvalidInput, $"there is already a target '{targetName}' in {context.ConfigFile.Path}", $"remove it first with `lifeboat repo target remove {targetName}`, or choose another name");
            }

            var targetUrl = parse.GetValue(url)!;
            var policy = parse.GetValue(retention) is { } spec ? ParseRetention(spec) : null;
            var options = new TargetOptions { Url = targetUrl, Retention = policy, PushWal = !parse.GetValue(noWal), ReplicateAfterBackup = !parse.GetValue(manual) };
            var probe = new LifeboatOptions { Repository = context.Options.Repository, Targets = new(context.Options.Targets) { [targetName] = options } };
            TargetOptions.ValidateAll(probe, context.ConfigFile.Path);

            // The target must be reachable and empty or hold this repository; start the replica there now.
            await using var primary = await context.OpenRepositoryAsync(ct);
            await using var target = context.OpenTarget(targetUrl);
            var state = await ReplicaIdentity.CheckAsync(primary, target, ct);
            if (state == ReplicaState.Empty)
            {
                await ReplicaIdentity.StartAsync(primary, target, ct);
            }

            context.ConfigFile.Edit(root =>
            {
                var section = ConfigFile.Section(ConfigFile.Section(root, "Targets"), targetName);
                section["Url"] = targetUrl;
                if (policy is not null)
                {
                    section["Retention"] = RetentionJson(policy);
                }

                if (!options.PushWal)
                {
                    section["PushWal"] = false;
                }

                if (!options.ReplicateAfterBackup)
                {
                    section["ReplicateAfterBackup"] = false;
                }
            });
            output.Line($"added target '{targetName}' ({Redact.Url(targetUrl)}) to {context.ConfigFile.Path}");
            output.Line($"  holds       {(state == ReplicaState.Empty ? "nothing yet (replica started: key slots and config written)" : $"repository {primary.Config.Id} already")}");
            output.Line($"  retention   {(policy is null ? "each source's own" : policy.ToPolicy().ToString())}");
            output.Line($"  wal-push    {(options.PushWal ? "every WAL file is written here too" : "no (WAL arrives by replication)")}");
            output.Line($"  replicate   {(options.ReplicateAfterBackup ? "after every backup" : "only with `lifeboat replicate`")}");
            output.Line($"next: `lifeboat target verify {targetName}`, then `lifeboat replicate --to {targetName}` to copy the existing backups");
            return 0;
        }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the repository's targets: the primary and every secondary") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var targets = context.All();
            var last = await LastReplicationsAsync(context, ct);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["targets"] = new JsonArray(targets.Select(t => (JsonNode)new JsonObject
                    {
                        ["name"] = t.Name,
                        ["url"] = Redact.Url(t.Url),
                        ["primary"] = t.IsPrimary,
                        ["retention"] = t.RetentionText,
                        ["pushWal"] = t.Options?.PushWal ?? true,
                        ["replicateAfterBackup"] = t.Options?.ReplicateAfterBackup,
                        ["lastReplication"] = last.TryGetValue(t.Name, out var run) ? new JsonObject { ["time"] = run.Started, ["status"] = run.Status.ToString().ToLowerInvariant(), ["error"] = run.Error } : null,
                    }).ToArray()),
                });
                return 0;
            }

            output.Table(
                ["NAME", "URL", "RETENTION", "WAL-PUSH", "LAST REPLICATION"],
                targets.Select(t => new[]
                {
                    t.Name,
                    Redact.Url(t.Url),
                    t.RetentionText,
                    t.Options?.PushWal == false ? "no" : "yes",
                    t.IsPrimary ? "-" : last.TryGetValue(t.Name, out var run) ? $"{CliOutput.Time(run.Started)} {run.Status.ToString().ToLowerInvariant()}" : "never",
                }));
            return 0;
        }));
        return command;
    }

    private static async Task<Dictionary<string, Catalog.RunRecord>> LastReplicationsAsync(Engine.Operations.EngineContext context, CancellationToken cancellationToken)
    {
        try
        {
            var catalog = await context.OpenCatalogAsync(cancellationToken);
            var runs = await catalog.RunsAsync(null, Catalog.JobKinds.Replicate, 200, cancellationToken);
            return runs.Where(r => r.Target is not null).GroupBy(r => r.Target!).ToDictionary(g => g.Key, g => g.OrderByDescending(r => r.Started).First());
        }
        catch (LifeboatException)
        {
            return [];
        }
    }

    private static Command Remove(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The secondary target to remove" };
        var command = new Command("remove", "Remove a secondary target from the configuration (its data stays where it is)") { name };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, (context, output) =>
        {
            var target = context.Target(parse.GetValue(name)!);
            if (target.IsPrimary)
            {
                throw new LifeboatException(ErrorCode.InvalidInput, "the primary target is the repository itself (Repository:Url) and cannot be removed", "to move the repository, replicate to a new target and make its URL Repository:Url");
            }

            context.ConfigFile.Edit(root =>
            {
                var targets = ConfigFile.Section(root, "Targets");
                targets.Remove(target.Name);
                if (targets.Count == 0)
                {
                    root.Remove("Targets");
                }
            });
            output.Line($"removed target '{target.Name}' from {context.ConfigFile.Path}; the replica at {Redact.Url(target.Url)} was not touched (delete it there if it is no longer wanted)");
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The target: primary, or a secondary's name" };
        var json = RepoCommands.JsonOption();
        var command = new Command("verify", "Probe a target: write, read back, list, refuse overwrite, delete — with latency and the permission each needs") { name, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var report = await TargetProbe.RunAsync(context, context.Target(parse.GetValue(name)!), ct);
            if (output.Json)
            {
                output.WriteJson(new JsonObject
                {
                    ["target"] = report.Target.Name,
                    ["url"] = Redact.Url(report.Target.Url),
                    ["ok"] = report.Ok,
                    ["holds"] = report.Holds,
                    ["steps"] = new JsonArray(report.Steps.Select(s => (JsonNode)new JsonObject
                    {
                        ["step"] = s.Name,
                        ["permission"] = s.Permission,
                        ["ok"] = s.Ok,
                        ["latencyMs"] = Math.Round(s.Latency.TotalMilliseconds, 1),
                        ["detail"] = s.Detail,
                    }).ToArray()),
                });
            }
            else
            {
                output.Line($"target {report.Target.Display}");
                output.Table(
                    ["STEP", "PERMISSION", "RESULT", "LATENCY", "DETAIL"],
                    report.Steps.Select(s => new[] { s.Name, s.Permission, s.Ok ? "ok" : "FAILED", $"{s.Latency.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms", s.Detail ?? "" }));
                output.Line($"holds: {report.Holds}");
                output.Line(report.Ok ? "target verified: every operation Lifeboat needs works" : $"{report.Steps.Count(s => !s.Ok)} step(s) failed: fix the target's permissions or reachability");
            }

            return report.Ok ? 0 : ErrorCode.TargetFailed.ToExitCode();
        }));
        return command;
    }

    private static Command Replicate(CliApp app)
    {
        var to = new Option<string?>("--to") { Description = "Only this secondary target (default: every secondary)", HelpName = "TARGET" };
        var json = RepoCommands.JsonOption();
        var command = new Command("replicate", "Copy what the secondary targets are missing from the primary, verifying every copy by hash") { to, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            if (context.Options.Targets.Count == 0)
            {
                throw new LifeboatException(ErrorCode.Config, $"there are no secondary targets in {context.ConfigFile.Path}", "add one with `lifeboat repo target add NAME URL`");
            }

            using var bar = output.Progress("replicate");
            var report = await ReplicationService.RunAsync(context, parse.GetValue(to), afterBackup: false, new Progress<string>(s => bar.Update(0, s)), ct);
            bar.Dispose();
            if (output.Json)
            {
                output.WriteJson(new JsonObject { ["targets"] = Describe(report), ["ok"] = report.Failures.Count == 0 });
            }
            else
            {
                Print(output, report);
            }

            return Exit(output, report);
        }));
        return command;
    }

    /// <summary>Prints each target's replication; failures go to stderr, all of them.</summary>
    public static void Print(CliOutput output, ReplicateReport report)
    {
        foreach (var t in report.Targets.Where(t => t.Error is null))
        {
            output.Line(t.Objects == 0
                ? $"target {t.Target}: up to date{(t.SkippedByRetention > 0 ? $" ({t.SkippedByRetention} backup(s) beyond its retention not copied)" : "")}"
                : $"target {t.Target}: {(t.Started ? "replica started; " : "")}copied {t.Backups} backup(s), {t.Packs} pack(s), {t.IndexObjects} index object(s), {t.WalFiles} WAL file(s), {t.Pins} pin(s){(t.Stacks > 0 ? $", {t.Stacks} stack record(s)" : "")}: {CliOutput.Size(t.Bytes)}, every copy verified by SHA-256{(t.SkippedByRetention > 0 ? $"; {t.SkippedByRetention} backup(s) beyond its retention not copied" : "")}");
        }
    }

    public static JsonArray Describe(ReplicateReport report) => new(report.Targets.Select(t => (JsonNode)new JsonObject
    {
        ["target"] = t.Target,
        ["ok"] = t.Error is null,
        ["started"] = t.Started,
        ["backups"] = t.Backups,
        ["packs"] = t.Packs,
        ["indexObjects"] = t.IndexObjects,
        ["walFiles"] = t.WalFiles,
        ["pins"] = t.Pins,
        ["stacks"] = t.Stacks,
        ["skippedByRetention"] = t.SkippedByRetention,
        ["bytes"] = t.Bytes,
        ["error"] = t.Error?.Message,
    }).ToArray());

    /// <summary>Reports every failed target on stderr and returns the exit code: 0, or the worst failure's.</summary>
    public static int Exit(CliOutput output, ReplicateReport report)
    {
        foreach (var f in report.Failures)
        {
            output.Note($"lifeboat: replication to target {f.Display} failed: {f.Error!.Message}");
            if (f.Error.Hint is { } hint)
            {
                output.Note("hint: " + hint);
            }
        }

        if (report.Failures.Count == 0)
        {
            return 0;
        }

        output.Note($"lifeboat: {report.Failures.Count} of {report.Targets.Count} target(s) failed; the others were replicated; `lifeboat replicate` catches up the failed ones once they are back");
        return report.Failures.Max(f => f.Error!.ExitCode);
    }

    /// <summary>
    /// <c>--retention</c>: a duration alone is a PITR window (keep every backup needed to restore any point of the last
    /// N days); otherwise comma-separated <c>key=value</c>.
    /// </summary>
    internal static RetentionOptions ParseRetention(string spec)
    {
        var options = new RetentionOptions();
        foreach (var part in spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                options.PitrWindow = Duration.Parse(part, "--retention");
                continue;
            }

            var key = part[..eq];
            var value = part[(eq + 1)..];
            switch (key)
            {
                case "window":
                    options.PitrWindow = Duration.Parse(value, "--retention window");
                    break;
                case "last": options.KeepLast = Count(key, value); break;
                case "daily": options.KeepDaily = Count(key, value); break;
                case "weekly": options.KeepWeekly = Count(key, value); break;
                case "monthly": options.KeepMonthly = Count(key, value); break;
                case "yearly": options.KeepYearly = Count(key, value); break;
                case "min": options.MinimumKeep = Count(key, value); break;
                default:
                    throw new LifeboatException(ErrorCode.Usage, $"--retention: unknown key '{key}'", "use 90d, or last=N, daily=N, weekly=N, monthly=N, yearly=N, window=DURATION, min=N separated by commas");
            }
        }

        options.ToPolicy().Validate("--retention");
        return options;
    }

    private static int Count(string key, string value)
        => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new LifeboatException(ErrorCode.Usage, $"--retention {key}={value}: not a count", $"write {key}=N with N a whole number");

    private static JsonObject RetentionJson(RetentionOptions r)
    {
        var o = new JsonObject();
        if (r.KeepLast is { } last) o["KeepLast"] = last;
        if (r.KeepDaily is { } daily) o["KeepDaily"] = daily;
        if (r.KeepWeekly is { } weekly) o["KeepWeekly"] = weekly;
        if (r.KeepMonthly is { } monthly) o["KeepMonthly"] = monthly;
        if (r.KeepYearly is { } yearly) o["KeepYearly"] = yearly;
        if (r.PitrWindow is { } window) o["PitrWindow"] = Duration.ToConfig(window);
        if (r.MinimumKeep != 1) o["MinimumKeep"] = r.MinimumKeep;
        return o;
    }
}
