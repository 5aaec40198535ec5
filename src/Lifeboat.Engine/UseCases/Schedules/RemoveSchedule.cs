using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;

namespace Lifeboat.Engine.UseCases.Schedules;

public sealed record RemoveScheduleRequest(string Name);

public sealed record RemoveScheduleResult(string Name, string Kind, string ConfigPath);

/// <summary>`schedule remove`: takes a schedule out of the configuration (its run history stays in the catalog).</summary>
public sealed class RemoveSchedule : IUseCase<RemoveScheduleRequest, RemoveScheduleResult>
{
    private readonly Workspace _workspace;
    private readonly Events _events;

    public RemoveSchedule(Workspace workspace, Events events)
    {
        _workspace = workspace;
        _events = events;
    }

    public async Task<RemoveScheduleResult> ExecuteAsync(RemoveScheduleRequest request, CancellationToken cancellationToken)
    {
        var schedule = ScheduleConfiguration.Get(_workspace, request.Name);
        _workspace.EditConfig(root =>
        {
            var schedules = ConfigFile.Section(root, "Schedules");
            schedules.Remove(request.Name);
            if (schedules.Count == 0)
            {
                root.Remove("Schedules");
            }
        });
        await _events.PublishAsync(new ConfigurationChanged("schedule", "removed", request.Name, schedule.Kind), cancellationToken);
        return new RemoveScheduleResult(request.Name, schedule.Kind!, _workspace.Config.Path);
    }
}
