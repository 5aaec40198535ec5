using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Engine.Application.Jobs;

/// <summary>The states of a job (API.md "Long operations are jobs").</summary>
public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string AwaitingApproval = "awaiting-approval";

    public static readonly IReadOnlyList<string> All = [Queued, Running, Succeeded, Failed, Cancelled, AwaitingApproval];

    /// <summary>A job in this state will not change any more.</summary>
    public static bool IsFinished(string state) => state is Succeeded or Failed or Cancelled;
}

/// <summary>How far a job got: its phase and a detail for people, the counters for bars.</summary>
public sealed record JobProgress(string? Phase, string? Detail, long Bytes, long? TotalBytes, long Files)
{
    public static JobProgress None { get; } = new(null, null, 0, null, 0);
}

/// <summary>
/// A job as the API shows it: what runs, for whom, its state and timings, its progress, and how it ended — the use
/// case's result when it succeeded, the error when it failed (or why it was cancelled).
/// </summary>
public sealed record JobView(
    string Id,
    string Kind,
    string? Source,
    string State,
    Actor Actor,
    string CorrelationId,
    DateTimeOffset Created,
    DateTimeOffset? Started,
    DateTimeOffset? Finished,
    JobProgress Progress,
    JsonElement? Result,
    ErrorView? Error,
    string? ApprovalId = null);

/// <summary>A page of jobs, newest first; <see cref="Next"/> is the cursor of the next page (null at the end).</summary>
public sealed record JobPage(IReadOnlyList<JobView> Items, string? Next);

/// <summary>What a cancel did.</summary>
public static class JobCancelOutcomes
{
    /// <summary>The job was queued: it is cancelled and will not run.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>The job is running: it was asked to stop and ends <c>cancelled</c> at its next check.</summary>
    public const string CancellationRequested = "cancellation-requested";

    /// <summary>The job had already ended: nothing changed.</summary>
    public const string AlreadyFinished = "already-finished";
}

/// <summary>The job after a cancel, what the cancel did (<see cref="JobCancelOutcomes"/>) and a sentence saying so.</summary>
public sealed record JobCancellation(JobView Job, string Outcome, string Message);

/// <summary>
/// A long operation to run as a job: its kind and source (for lists), the workspace it works on (made anew for the
/// job: it outlives the request that submitted it), who asked, the correlation id, and what to run — in the job's own
/// service scope, with the job's cancellation token, returning the result as JSON.
/// </summary>
/// <param name="Request">The request as JSON, recorded with the job (null: not recorded).</param>
/// <param name="Admit">Checks run at submission, in the job's call, that refuse the job before it is queued (<see cref="IAdmitsJobs{TRequest}"/>); null: none.</param>
public sealed record JobSubmission(
    string Kind,
    string? Source,
    Func<Workspace> Workspace,
    Actor Actor,
    string CorrelationId,
    Func<IServiceProvider, CancellationToken, Task<JsonElement>> Run,
    string? Request = null,
    Func<IServiceProvider, CancellationToken, Task>? Admit = null)
{
    /// <summary>A job that runs the use case <typeparamref name="TUseCase"/> on <paramref name="request"/>; its result is serialised with <paramref name="info"/> (a <see cref="LifeboatJson"/> type).</summary>
    public static JobSubmission For<TUseCase, TRequest, TResult>(
        string kind,
        string? source,
        TRequest request,
        JsonTypeInfo<TResult> info,
        Func<Workspace> workspace,
        Actor actor,
        string correlationId)
        where TUseCase : IUseCase<TRequest, TResult>
        => new(kind, source, workspace, actor, correlationId, async (services, cancellationToken) =>
        {
            var result = await services.GetRequiredService<TUseCase>().ExecuteAsync(request, cancellationToken);
            return JsonSerializer.SerializeToElement(result, info);
        }, Admit: typeof(IAdmitsJobs<TRequest>).IsAssignableFrom(typeof(TUseCase))
            ? (services, cancellationToken) => ((IAdmitsJobs<TRequest>)services.GetRequiredService<TUseCase>()).AdmitAsync(request, cancellationToken)
            : null);
}

/// <summary>Settings of the job queue.</summary>
public sealed class JobQueueOptions
{
    /// <summary>How many jobs run at once; the others wait, queued, in submission order.</summary>
    public int MaxConcurrency { get; set; } = 2;

    /// <summary>How often, at most, a running job's progress is written to the catalog (it is live in memory always).</summary>
    public TimeSpan PersistInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a job awaiting approval looks at its request.</summary>
    public TimeSpan ApprovalPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The name of this server node, recorded with the jobs it runs.</summary>
    public string Node { get; set; } = Environment.MachineName;
}

/// <summary>Job ids: <c>job_</c>, the creation time (so ids sort by it), and a random part.</summary>
public static class JobIds
{
    public static string New(DateTimeOffset now)
        => "job_" + now.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", System.Globalization.CultureInfo.InvariantCulture) + "_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
}
