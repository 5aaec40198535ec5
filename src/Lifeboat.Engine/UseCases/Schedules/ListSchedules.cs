using System.Text.Json.Serialization;
using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Engine.UseCases.Schedules;

public sealed record ListSchedulesRequest;

/// <param name="Next">The next run, or null when the expression never fires again.</param>
public sealed record ScheduleView(string Name, string Kind, string? Source, string? Stack, string Cron, string TimeZone, DateTimeOffset? Next, DateTimeOffset? LastRun, string? LastStatus, int ConsecutiveFailures)
{
    /// <summary>Whether the configuration names the time zone (otherwise <see cref="TimeZone"/> is the default, UTC).</summary>
    [JsonIgnore]
    public bool TimeZoneConfigured { get; init; }

    /// <summary>The view of <paramref name="schedule"/> with its catalog state (null: never ran, or no catalog).</summary>
    public static ScheduleView From(Schedule schedule, ScheduleState? state, DateTimeOffset now)
        => new(schedule.Name, schedule.Kind, schedule.Source, schedule.Options.Stack, schedule.Options.Cron!, schedule.Options.TimeZone ?? "UTC", schedule.Next(now), state?.LastRun, state?.LastStatus, state?.ConsecutiveFailures ?? 0)
        {
            TimeZoneConfigured = schedule.Options.TimeZone is not null,
        };
}

/// <param name="Warnings">The catalog could not be read (last runs unknown).</param>
public sealed record ListSchedulesResult(IReadOnlyList<ScheduleView> Schedules, IReadOnlyList<string> Warnings);

/// <summary>`schedule list`: every schedule with its next run and, from the catalog, its last run.</summary>
public sealed class ListSchedules : IUseCase<ListSchedulesRequest, ListSchedulesResult>
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public ListSchedules(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public async Task<ListSchedulesResult> ExecuteAsync(ListSchedulesRequest request, CancellationToken cancellationToken)
    {
        var schedules = Schedule.All(_workspace.Options);
        Dictionary<string, ScheduleState> states = [];
        var warnings = new List<string>();
        try
        {
            states = await (await _catalog.OpenAsync(cancellationToken)).ScheduleStatesAsync(cancellationToken);
        }
        catch (LifeboatException ex)
        {
            warnings.Add(ex.Message);
        }

        var now = _time.GetUtcNow();
        return new ListSchedulesResult(
            schedules.Select(s => ScheduleView.From(s, states.GetValueOrDefault(s.Name), now)).ToList(),
            warnings);
    }
}
