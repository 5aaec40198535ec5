using System.Security.Cryptography;

namespace Lifeboat.Engine.Application;

/// <summary>Who asked for an operation: a person at the command line, an API token, the scheduler.</summary>
/// <param name="Kind">cli, token, oidc, scheduler or system.</param>
/// <param name="Name">The user (CLI: the OS user), the token's name, the schedule's name.</param>
/// <param name="Role">The role the request was made with (the server's roles); null for the CLI.</param>
public sealed record Actor(string Kind, string Name, string? Role = null, string? TokenId = null, string? RemoteAddress = null)
{
    public static Actor System { get; } = new("system", "lifeboat");

    public static Actor Cli(string user) => new("cli", user);

    public static Actor Scheduler(string schedule) => new("scheduler", schedule);
}

/// <summary>
/// One call of a use case (a command, an API request, a scheduled job): the workspace it works on, who asked, the
/// correlation id every event and log line of the call carries, and where progress goes. Scoped: one per call; the
/// adapter sets <see cref="Workspace"/> before it resolves a use case.
/// </summary>
public sealed class CallContext
{
    private Workspace? _workspace;

    public Workspace Workspace
    {
        get => _workspace ?? throw new InvalidOperationException("no workspace was set for this call: the adapter must set CallContext.Workspace before resolving a use case");
        set => _workspace = value;
    }

    public Actor Actor { get; set; } = Actor.System;

    /// <summary>One id per call, in every event and log line of it.</summary>
    public string CorrelationId { get; set; } = NewId();

    /// <summary>Where the use case reports progress (a bar, a job's state); null: nobody listens.</summary>
    public IProgress<ProgressUpdate>? Progress { get; set; }

    /// <summary>The approval request this call executes (the approvals issue), or null.</summary>
    public string? ApprovalId { get; set; }

    /// <summary>
    /// This call writes to a source in maintenance mode all the same (the CLI's <c>--ignore-maintenance</c>: the person
    /// doing the maintenance); false for the server and the scheduler.
    /// </summary>
    public bool IgnoreMaintenance { get; set; }

    public void Report(ProgressUpdate update) => Progress?.Report(update);

    /// <summary>
    /// A progress sink of another type that reports to this call's progress at once, on the reporting thread
    /// (<see cref="Progress{T}"/> posts to the thread pool: its last report may land after the call ended, when a job
    /// no longer takes it); null when nobody listens.
    /// </summary>
    public IProgress<T>? Relay<T>(Func<T, ProgressUpdate> map) => Progress is null ? null : new RelayProgress<T>(this, map);

    private sealed class RelayProgress<T>(CallContext call, Func<T, ProgressUpdate> map) : IProgress<T>
    {
        public void Report(T value) => call.Report(map(value));
    }

    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}

/// <summary>
/// Progress of a long operation, reported a few times a second: the phase and a detail for people, counters for bars.
/// A <see cref="Step"/> update marks a new step (drills print each); others update the current one.
/// </summary>
public sealed record ProgressUpdate(string Phase, string? Detail = null, long Bytes = 0, long? TotalBytes = null, long Files = 0, bool Step = false);

/// <summary>
/// An application use case: one operation of the product, called the same way by the CLI, the API, the scheduler and
/// the dashboard. A request record in, a result record out (what --json prints and the API returns); failures are
/// <see cref="Core.LifeboatException"/>s naming request fields as «field».
/// </summary>
public interface IUseCase<in TRequest, TResult>
{
    Task<TResult> ExecuteAsync(TRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A use case that can refuse a request cheaply before it is queued as a job (maintenance mode, another operation
/// holding the source's lock): the job queue calls <see cref="AdmitAsync"/> at submission, in the job's own call, so
/// the client gets the refusal instead of a job that fails. The use case checks the same again when it runs.
/// </summary>
public interface IAdmitsJobs<in TRequest>
{
    Task AdmitAsync(TRequest request, CancellationToken cancellationToken);
}
