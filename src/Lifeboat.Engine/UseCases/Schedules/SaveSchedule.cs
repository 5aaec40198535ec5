using Lifeboat.Catalog;
using Lifeboat.Core;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Engine.UseCases.Schedules;

/// <summary>A schedule's settings as a request gives them (the fields of Schedules:NAME in the configuration).</summary>
/// <param name="Kind">full, incr, backup, logical, files, stack, verify, expire, replicate, drill.</param>
/// <param name="Source">The source (every kind but verify, replicate and stack).</param>
/// <param name="Stack">Kind stack: the stack to back up.</param>
/// <param name="Cron">Five-field cron expression (minute hour day-of-month month day-of-week).</param>
/// <param name="TimeZone">IANA time zone of the expression (null: UTC).</param>
/// <param name="Jitter">A random delay up to this long before each run (null: none).</param>
/// <param name="MaxAttempts">Attempts with backoff before a run is recorded as failed (null: 3).</param>
public sealed record ScheduleSettings(string? Kind = null, string? Source = null, string? Stack = null, string? Cron = null, string? TimeZone = null, TimeSpan? Jitter = null, int? MaxAttempts = null)
{
    internal ScheduleOptions ToOptions()
    {
        var options = new ScheduleOptions { Kind = Kind, Source = Source, Stack = Stack, Cron = Cron, TimeZone = string.IsNullOrEmpty(TimeZone) ? null : TimeZone };
        options.Jitter = Jitter ?? options.Jitter;
        options.MaxAttempts = MaxAttempts ?? options.MaxAttempts;
        return options;
    }
}

/// <summary>`schedule add` and <c>POST /api/v1/schedules</c>: a new schedule.</summary>
/// <param name="Name">The schedule's name (the rules of source names).</param>
public sealed record AddScheduleRequest(string? Name, string? Kind = null, string? Source = null, string? Stack = null, string? Cron = null, string? TimeZone = null, TimeSpan? Jitter = null, int? MaxAttempts = null)
{
    public ScheduleSettings Settings => new(Kind, Source, Stack, Cron, TimeZone, Jitter, MaxAttempts);
}

/// <summary><c>PUT /api/v1/schedules/{name}</c>: replaces every setting of an existing schedule.</summary>
public sealed record UpdateScheduleRequest(string Name, ScheduleSettings Settings);

/// <param name="Created">A new schedule (false: an existing one was replaced).</param>
/// <param name="Warnings">What could not be recorded now (the catalog could not be written; the configuration was).</param>
public sealed record SaveScheduleResult(ScheduleView Schedule, string ConfigPath, bool Created, IReadOnlyList<string> Warnings);

/// <summary>
/// `schedule add`: checks a new schedule exactly as the configuration loader would (a bad field is exit 2 / 400 naming
/// it), writes it into the configuration as a person would, and starts tracking its runs in the catalog from now (so
/// that a due run that does not happen is reported as missed by <see cref="ShowSchedule"/>).
/// </summary>
public sealed class AddSchedule : IUseCase<AddScheduleRequest, SaveScheduleResult>
{
    private readonly ScheduleConfiguration _configuration;

    public AddSchedule(ScheduleConfiguration configuration) => _configuration = configuration;

    public Task<SaveScheduleResult> ExecuteAsync(AddScheduleRequest request, CancellationToken cancellationToken)
        => _configuration.SaveAsync(request.Name, request.Settings, create: true, cancellationToken);
}

/// <summary><c>PUT /api/v1/schedules/{name}</c>: replaces a schedule's settings (checked as `schedule add` checks them).</summary>
public sealed class UpdateSchedule : IUseCase<UpdateScheduleRequest, SaveScheduleResult>
{
    private readonly ScheduleConfiguration _configuration;

    public UpdateSchedule(ScheduleConfiguration configuration) => _configuration = configuration;

    public Task<SaveScheduleResult> ExecuteAsync(UpdateScheduleRequest request, CancellationToken cancellationToken)
        => _configuration.SaveAsync(request.Name, request.Settings ?? new ScheduleSettings(), create: false, cancellationToken);
}

/// <summary>Writing schedules into the configuration (the path `source add` and `target add` take: <see cref="Workspace.EditConfig"/>).</summary>
public sealed class ScheduleConfiguration
{
    private readonly Workspace _workspace;
    private readonly CatalogAccess _catalog;
    private readonly TimeProvider _time;
    private readonly Events _events;

    public ScheduleConfiguration(Workspace workspace, CatalogAccess catalog, TimeProvider time, Events events)
    {
        _workspace = workspace;
        _catalog = catalog;
        _time = time;
        _events = events;
    }

    /// <summary>The configured schedule; <see cref="ErrorCode.NotFound"/> naming the configured ones when there is none.</summary>
    public static ScheduleOptions Get(Workspace workspace, string name)
    {
        if (!workspace.Options.Schedules.TryGetValue(name, out var schedule))
        {
            var known = workspace.Options.Schedules.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", workspace.Options.Schedules.Keys.Order(StringComparer.Ordinal));
            throw new LifeboatException(ErrorCode.NotFound, $"there is no schedule '{name}' in {workspace.Config.Path} ({known})", "`lifeboat schedule list` shows the schedules");
        }

        return schedule;
    }

    public async Task<SaveScheduleResult> SaveAsync(string? name, ScheduleSettings settings, bool create, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new LifeboatException(ErrorCode.InvalidInput, $"{FieldText.Ref("name")} is missing", "give the schedule a name: lower-case letters, digits, '.', '_' or '-'");
        }

        ScheduleOptions? previous = null;
        if (create)
        {
            SourceNames.Validate(name, "schedule name");
            if (_workspace.Options.Schedules.ContainsKey(name))
            {
                throw new LifeboatException(ErrorCode.Refused, $"a schedule named '{name}' already exists in {_workspace.Config.Path}", $"choose another name, change it with PUT /api/v1/schedules/{name}, or remove it first with `lifeboat schedule remove {name}`");
            }
        }
        else
        {
            previous = Get(_workspace, name);
        }

        var options = settings.ToOptions();
        options.ValidateRequest(_workspace.Options);
        _workspace.EditConfig(root => ConfigFile.Section(root, "Schedules")[name] = ConfigJson.Section(options));
        await _events.PublishAsync(new ConfigurationChanged("schedule", create ? "added" : "changed", name, options.Kind), cancellationToken);

        // Runs are tracked from now: a new schedule, or a changed expression, owes no run of the past.
        var schedule = new Schedule(name, options);
        var now = _time.GetUtcNow();
        var warnings = new List<string>();
        ScheduleState? state = null;
        try
        {
            var catalog = await _catalog.OpenAsync(cancellationToken);
            state = (await catalog.ScheduleStatesAsync(cancellationToken)).GetValueOrDefault(name);
            var restart = create || state is null || previous!.Cron != options.Cron || previous.TimeZone != options.TimeZone;
            if (restart)
            {
                state = create || state is null
                    ? new ScheduleState(name, null, null, schedule.Next(now), 0)
                    : state with { NextRun = schedule.Next(now) };
                await catalog.SaveScheduleStateAsync(state, cancellationToken);
            }
        }
        catch (LifeboatException ex)
        {
            warnings.Add($"the catalog could not be written, so missed runs are not tracked yet: {ex.Message}");
        }

        return new SaveScheduleResult(ScheduleView.From(schedule, state, now), _workspace.Config.Path, create, warnings);
    }
}
