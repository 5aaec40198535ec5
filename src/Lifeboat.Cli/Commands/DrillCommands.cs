using System.CommandLine;
using System.Globalization;
using Lifeboat.Core;
using Lifeboat.Engine.Drills;

namespace Lifeboat.Cli.Commands;

/// <summary><c>lifeboat drill</c>: restore into a scratch copy, check it, measure RTO and RPO, keep the evidence.</summary>
internal static class DrillCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var source = new Option<string>("--source") { Description = "The source to drill", Required = true, HelpName = "NAME" };
        var backup = new Option<string?>("--backup") { Description = "Drill this backup (a cluster: recovered to the point of its row counts)", HelpName = "ID" };
        var targetTime = new Option<string?>("--target-time") { Description = "Recover to this time (2026-11-22T14:03:00+00:00)", HelpName = "TIME" };
        var random = new Option<bool>("--random-point") { Description = "Recover to a random time inside the recoverable window (files: a random backup)" };
        var timeout = new Option<string?>("--timeout") { Description = "Fail and clean up after this long (default Drill:Timeout, 30 minutes): 00:30:00, 90s, 45m, 2h", HelpName = "DURATION" };
        var json = RepoCommands.JsonOption();
        var command = new Command("drill", "Prove a backup restores: restore it into a scratch copy, check it, measure RTO and RPO, and keep the evidence")
        {
            source, backup, targetTime, random, timeout, json,
        };
        command.SetAction((parse, ct) => app.ExecuteAsync(parse, parse.GetValue(json), ct, async (context, output) =>
        {
            var request = new DrillRequest
            {
                SourceName = parse.GetValue(source)!,
                BackupId = parse.GetValue(backup),
                TargetTime = parse.GetValue(targetTime),
                RandomPoint = parse.GetValue(random),
                Timeout = parse.GetValue(timeout) is { } t ? ParseDuration(t) : null,
                LowerProcessPriority = app.Environment.OwnsProcess,
            };
            var started = context.Time.GetTimestamp();
            var report = await DrillService.RunAsync(context, request, new Progress<string>(step => output.Note($"drill [{context.Time.GetElapsedTime(started).TotalSeconds,5:0.0}s] {step}")), ct);
            if (output.Json)
            {
                output.WriteJson(report.ToJson());
                return report.ExitCode;
            }

            foreach (var check in report.Checks)
            {
                var mark = check.Status switch { DrillCheckStatus.Passed => "ok  ", DrillCheckStatus.Failed => "FAIL", DrillCheckStatus.Skipped => "skip", _ => "info" };
                output.Note($"  {mark} {check.Name}: {check.Detail.Split('\n')[0]}");
            }

            foreach (var note in report.Notes)
            {
                output.Note("  note " + note);
            }

            output.Line(report.Summary);
            return report.ExitCode;
        }));
        yield return command;
    }

    /// <summary>hh:mm:ss (TimeSpan), or a number with s, m or h.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        var s = text.Trim();
        if (s.Length > 1 && "smh".Contains(s[^1], StringComparison.Ordinal) && double.TryParse(s[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n > 0)
        {
            return s[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), _ => TimeSpan.FromHours(n) };
        }

        if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero)
        {
            return span;
        }

        throw new LifeboatException(ErrorCode.Usage, $"--timeout '{text}' is not a duration", "write 00:30:00, 90s, 45m or 2h");
    }
}
