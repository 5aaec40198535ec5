using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Engine.UseCases.Schedules;

/// <param name="Next">How many next runs to list (1–100).</param>
public sealed record ShowScheduleRequest(string Name, int Next = 5);

/// <summary>
/// Runs that were due and did not happen. The catalog records, for every schedule, the next run it owes
/// (<see cref="ScheduleState.NextRun"/>: set when the schedule is added or its expression changes, and moved on when a
/// run starts, by the scheduler of `serve` or by `schedule run`). Every occurrence of the expression from that recorded
/// run up to <see cref="ShowSchedule.Grace"/> before now is missed: it was due and no run started for it. When a run
/// starts, the recorded next run moves past now, and what it skipped is no longer listed (the scheduler runs a run
/// missed while it was down once at start-up, not once per occurrence).
/// </summary>
/// <param name="Tracked">Whether the catalog records this schedule at all (false: never seen by `serve`, `schedule run` or `schedule add`; nothing can be said).</param>
/// <param name="Since">The first run owed (the catalog's next run).</param>
/// <param name="Count">How many occurrences were missed (at most 10,000 are counted).</param>
/// <param name="Occurrences">The missed occurrences, oldest first (at most 100).</param>
public sealed record MissedRuns(bool Tracked, DateTimeOffset? Since, int Count, IReadOnlyList<DateTimeOffset> Occurrences);

/// <param name="NextRuns">The next occurrences after now.</param>
/// <param name="Warnings">The catalog could not be read (last and missed runs unknown).</param>
public sealed record ScheduleDetail(ScheduleView Schedule, IReadOnlyList<DateTimeOffset> NextRuns, MissedRuns Missed, TimeSpan Jitter, int MaxAttempts, IReadOnlyList<string> Warnings);

/// <summary>`GET /api/v1/schedules/{name}`: one schedule, its next runs, and the runs it missed (<see cref="MissedRuns"/>).</summary>
public sealed class ShowSchedule : IUseCase<ShowScheduleRequest, ScheduleDetail>
{
    /// <summary>How late a run may start before it counts as missed (the scheduler wakes at least once a minute).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    private const int MaxCounted = 10_000;
    private const int MaxListed = 100;

    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;

    public ShowSchedule(Workspace workspace, CatalogAccess catalog, TimeProvider time)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
    }

    public async Task<ScheduleDetail> ExecuteAsync(ShowScheduleRequest request, CancellationToken cancellationToken)
    {
        var count = request.Next is >= 1 and <= 100
            ? request.Next
            : throw new LifeboatException(ErrorCode.Usage, $"{FieldText.Ref("next")} {request.Next} is out of range", "ask for 1 to 100 next runs");
        var schedule = new Schedule(request.Name, ScheduleConfiguration.Get(_workspace, request.Name));
        var warnings = new List<string>();
        ScheduleState? state = null;
        try
        {
            state = (await (await _catalog.OpenAsync(cancellationToken)).ScheduleStatesAsync(cancellationToken)).GetValueOrDefault(schedule.Name);
        }
        catch (LifeboatException ex)
        {
            warnings.Add(ex.Message);
        }

        var now = _time.GetUtcNow();
        var next = new List<DateTimeOffset>();
        for (var at = schedule.Next(now); at is { } t && next.Count < count; at = schedule.Next(t))
        {
            next.Add(t);
        }

        return new ScheduleDetail(ScheduleView.From(schedule, state, now), next, Missed(schedule, state, now), schedule.Options.Jitter, schedule.Options.MaxAttempts, warnings);
    }

    /// <summary>The occurrences in [state.NextRun, now − <see cref="Grace"/>] (see <see cref="MissedRuns"/>).</summary>
    public static MissedRuns Missed(Schedule schedule, ScheduleState? state, DateTimeOffset now)
    {
        var since = state?.NextRun ?? (state?.LastRun is { } last ? schedule.Next(last) : null);
        if (state is null || since is not { } from)
        {
            return new MissedRuns(false, null, 0, []);
        }

        var until = now - Grace;
        var listed = new List<DateTimeOffset>();
        var counted = 0;
        if (from <= until)
        {
            foreach (var occurrence in schedule.Expression.GetOccurrences(from, until, schedule.Zone, fromInclusive: true, toInclusive: true))
            {
                if (listed.Count < MaxListed)
                {
                    listed.Add(occurrence);
                }

                if (++counted >= MaxCounted)
                {
                    break;
                }
            }
        }

        return new MissedRuns(true, from, counted, listed);
    }
}
