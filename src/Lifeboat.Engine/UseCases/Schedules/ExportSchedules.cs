using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Cluster;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Engine.UseCases.Schedules;

/// <param name="Format">systemd or cron.</param>
/// <param name="User">The OS user the jobs run as.</param>
/// <param name="Output">systemd: write the units into this directory (null: return them only).</param>
public sealed record ExportSchedulesRequest(string Format, string User = "postgres", string? Output = null);

/// <summary>A file of the export: a crontab, or a systemd service or timer unit.</summary>
public sealed record ExportedFile(string File, string Content);

/// <param name="WrittenTo">The directory the units were written into, or null.</param>
public sealed record ExportSchedulesResult(string Format, IReadOnlyList<ExportedFile> Files, string? WrittenTo);

/// <summary>`schedule export`: the schedules as crontab lines or systemd units, for hosts that do not run `serve`.</summary>
public sealed class ExportSchedules : IUseCase<ExportSchedulesRequest, ExportSchedulesResult>
{
    private readonly Workspace _workspace;

    public ExportSchedules(Workspace workspace) => _workspace = workspace;

    public Task<ExportSchedulesResult> ExecuteAsync(ExportSchedulesRequest request, CancellationToken cancellationToken)
    {
        var schedules = Schedule.All(_workspace.Options);
        var self = LifeboatCommand.Self(_workspace.Environment);
        if (request.Format == "cron")
        {
            return Task.FromResult(new ExportSchedulesResult("cron", [new ExportedFile("crontab", ScheduleExport.Cron(schedules, self, _workspace.Config.Path, request.User))], null));
        }

        if (request.Format != "systemd")
        {
            throw new LifeboatException(ErrorCode.Usage, $"«format» '{request.Format}' is not an export format", "use systemd or cron");
        }

        var units = ScheduleExport.Systemd(schedules, self, _workspace.Config.Path, request.User).Select(u => new ExportedFile(u.File, u.Content)).ToList();
        string? written = null;
        if (request.Output is { } target)
        {
            written = _workspace.ResolvePath(target);
            Directory.CreateDirectory(written);
            foreach (var unit in units)
            {
                File.WriteAllText(Path.Combine(written, unit.File), unit.Content);
            }
        }

        return Task.FromResult(new ExportSchedulesResult("systemd", units, written));
    }
}
