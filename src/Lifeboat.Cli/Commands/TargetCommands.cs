using System.CommandLine;
using System.Globalization;
using Lifeboat.Cli.Output;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.UseCases.Targets;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat repo target add|list|remove | target verify | replicate</c>.</summary>
internal static class TargetCommands
{
    private static readonly Dictionary<string, string> NameField = new() { ["name"] = "NAME" };

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
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<AddTarget>().ExecuteAsync(
                new AddTargetRequest(parse.GetValue(name)!, parse.GetValue(url)!, parse.GetValue(retention), parse.GetValue(noWal), parse.GetValue(manual)),
                ct);
            var output = call.Output;
            output.Line($"added target '{result.Name}' ({result.Url}) to {result.ConfigPath}");
            output.Line($"  holds       {(result.Started ? "nothing yet (replica started: key slots and config written)" : $"repository {result.Repository} already")}");
            output.Line($"  retention   {result.Retention}");
            output.Line($"  wal-push    {(result.PushWal ? "every WAL file is written here too" : "no (WAL arrives by replication)")}");
            output.Line($"  replicate   {(result.ReplicateAfterBackup ? "after every backup" : "only with `lifeboat replicate`")}");
            output.Line($"next: `lifeboat target verify {result.Name}`, then `lifeboat replicate --to {result.Name}` to copy the existing backups");
            return 0;
        }, new Dictionary<string, string> { ["name"] = "NAME", ["url"] = "URL" }));
        return command;
    }

    private static Command List(CliApp app)
    {
        var json = RepoCommands.JsonOption();
        var command = new Command("list", "List the repository's targets: the primary and every secondary") { json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<ListTargets>().ExecuteAsync(new ListTargetsRequest(), ct);
            if (call.Output.Json)
            {
                call.Output.WriteJson(result, LifeboatJson.Default.ListTargetsResult);
                return 0;
            }

            call.Output.Table(
                ["NAME", "URL", "RETENTION", "WAL-PUSH", "LAST REPLICATION"],
                result.Targets.Select(t => new[]
                {
                    t.Name,
                    t.Url,
                    t.Retention,
                    t.PushWal ? "yes" : "no",
                    t.Primary ? "-" : t.LastReplication is { } run ? $"{CliOutput.Time(run.Time)} {run.Status}" : "never",
                }));
            return 0;
        }));
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The secondary target to remove" };
        var command = new Command("remove", "Remove a secondary target from the configuration (its data stays where it is)") { name };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, json: false, ct, async call =>
        {
            var result = await call.Get<RemoveTarget>().ExecuteAsync(new RemoveTargetRequest(parse.GetValue(name)!), ct);
            call.Output.Line($"removed target '{result.Name}' from {result.ConfigPath}; the replica at {result.Url} was not touched (delete it there if it is no longer wanted)");
            return 0;
        }, NameField));
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var name = new Argument<string>("NAME") { Description = "The target: primary, or a secondary's name" };
        var json = RepoCommands.JsonOption();
        var command = new Command("verify", "Probe a target: write, read back, list, refuse overwrite, delete — with latency and the permission each needs") { name, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            var result = await call.Get<VerifyTarget>().ExecuteAsync(new VerifyTargetRequest(parse.GetValue(name)!), ct);

            // What the target holds may name a request field («to»): as this command line spells it.
            var report = result with { Holds = FieldText.Render(result.Holds, FieldText.AsFlag) };
            var output = call.Output;
            if (output.Json)
            {
                output.WriteJson(report, LifeboatJson.Default.VerifyTargetResult);
            }
            else
            {
                output.Line($"target {report.Display}");
                output.Table(
                    ["STEP", "PERMISSION", "RESULT", "LATENCY", "DETAIL"],
                    report.Steps.Select(s => new[] { s.Step, s.Permission, s.Ok ? "ok" : "FAILED", $"{s.LatencyMs.ToString("0.0", CultureInfo.InvariantCulture)} ms", s.Detail ?? "" }));
                output.Line($"holds: {report.Holds}");
                output.Line(report.Ok ? "target verified: every operation Lifeboat needs works" : $"{report.Steps.Count(s => !s.Ok)} step(s) failed: fix the target's permissions or reachability");
            }

            return report.Ok ? 0 : ErrorCode.TargetFailed.ToExitCode();
        }, NameField));
        return command;
    }

    private static Command Replicate(CliApp app)
    {
        var to = new Option<string?>("--to") { Description = "Only this secondary target (default: every secondary)", HelpName = "TARGET" };
        var json = RepoCommands.JsonOption();
        var command = new Command("replicate", "Copy what the secondary targets are missing from the primary, verifying every copy by hash") { to, json };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async call =>
        {
            ReplicateReport report;
            using (call.ShowProgress("replicate"))
            {
                report = await call.Get<Engine.UseCases.Targets.Replicate>().ExecuteAsync(new ReplicateRequest(parse.GetValue(to)), ct);
            }

            if (call.Output.Json)
            {
                call.Output.WriteJson(report, LifeboatJson.Default.ReplicateReport);
            }
            else
            {
                Print(call.Output, report);
            }

            return Exit(call.Output, report);
        }));
        return command;
    }

    /// <summary>Prints each target's replication (failures: <see cref="Exit"/>).</summary>
    public static void Print(CliOutput output, ReplicateReport report)
    {
        foreach (var t in report.Targets.Where(t => t.Ok))
        {
            output.Line(t.Objects == 0
                ? $"target {t.Target}: up to date{(t.SkippedByRetention > 0 ? $" ({t.SkippedByRetention} backup(s) beyond its retention not copied)" : "")}"
                : $"target {t.Target}: {(t.Started ? "replica started; " : "")}copied {t.Backups} backup(s), {t.Packs} pack(s), {t.IndexObjects} index object(s), {t.WalFiles} WAL file(s), {t.Pins} pin(s){(t.Stacks > 0 ? $", {t.Stacks} stack record(s)" : "")}: {CliOutput.Size(t.Bytes)}, every copy verified by SHA-256{(t.SkippedByRetention > 0 ? $"; {t.SkippedByRetention} backup(s) beyond its retention not copied" : "")}");
        }
    }

    /// <summary>Reports every failed target on stderr and returns the exit code: 0, or the worst failure's.</summary>
    public static int Exit(CliOutput output, ReplicateReport report)
    {
        var failures = report.Failures;
        foreach (var f in failures)
        {
            output.Note($"lifeboat: replication to target {f.Display} failed: {FieldText.Render(f.FailureDetails()!.Message, FieldText.AsFlag)}");
            if (f.FailureDetails()!.Hint is { } hint)
            {
                output.Note("hint: " + FieldText.Render(hint, FieldText.AsFlag));
            }
        }

        if (failures.Count == 0)
        {
            return 0;
        }

        output.Note($"lifeboat: {failures.Count} of {report.Targets.Count} target(s) failed; the others were replicated; `lifeboat replicate` catches up the failed ones once they are back");
        return failures.Max(f => f.FailureDetails()!.ExitCode);
    }
}
