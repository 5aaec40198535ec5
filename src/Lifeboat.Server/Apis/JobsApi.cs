using System.Text.Json.Serialization.Metadata;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.Drills;
using Lifeboat.Engine.Replication;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Drills;
using Lifeboat.Engine.UseCases.Jobs;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Engine.UseCases.Restores;
using Lifeboat.Engine.UseCases.Targets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lifeboat.Server.Apis;

/// <summary>
/// Long operations are jobs (API.md): <c>POST</c> answers <c>202 Accepted</c> with the job and <c>Location:
/// /api/v1/jobs/{id}</c>; the job runs in its own scope and survives the client going away; its progress streams
/// over SSE; <c>DELETE</c> cancels it.
/// </summary>
public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this RouteGroupBuilder api)
    {
        var start = api.MapGroup("").RequireAuthorization(Permissions.Operate);
        start.MapPost("/backups", (BackupSourceRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<BackupSource, BackupSourceRequest, BackupSourceResult>(call, jobs, "backup", request.Source, request, LifeboatJson.Default.BackupSourceResult, ct))
            .WithTags("backups").WithName("StartBackup").WithSummary("Back a source up (a job; its result is the backup)");
        start.MapPost("/restores", (RestoreSourceRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<RestoreSource, RestoreSourceRequest, RestoreSourceResult>(call, jobs, "restore", request.Source, request, LifeboatJson.Default.RestoreSourceResult, ct))
            .WithTags("restores").WithName("StartRestore").WithSummary("Restore a source: a cluster to a point in time, a database or some tables, a file tree (a job)");
        start.MapPost("/drills", (RunDrillRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<RunDrill, RunDrillRequest, DrillDocument>(call, jobs, "drill", request.Source, request with { LowerProcessPriority = false }, LifeboatJson.Default.DrillDocument, ct))
            .WithTags("drills").WithName("StartDrill").WithSummary("Prove a backup restores: restore into a scratch copy, check it, measure RTO and RPO (a job; its result is the drill report)");
        start.MapPost("/verify", (VerifyRepositoryRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<VerifyRepository, VerifyRepositoryRequest, VerifyRepositoryResult>(call, jobs, "verify", null, request, LifeboatJson.Default.VerifyRepositoryResult, ct))
            .WithTags("maintenance").WithName("StartVerify").WithSummary("Check the repository, with `readData` every chunk (a job)");
        start.MapPost("/expire", (ExpireBackupsRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<ExpireBackups, ExpireBackupsRequest, ExpireReport>(call, jobs, "expire", request.Source, request, LifeboatJson.Default.ExpireReport, ct))
            .WithTags("maintenance").WithName("StartExpire").WithSummary("Apply the retention policies, `dryRun` to preview (a job)");
        start.MapPost("/replicate", (ReplicateRequest request, CallContext call, JobQueue jobs, CancellationToken ct)
                => SubmitAsync<Replicate, ReplicateRequest, ReplicateReport>(call, jobs, "replicate", null, request, LifeboatJson.Default.ReplicateReport, ct))
            .WithTags("targets").WithName("StartReplicate").WithSummary("Bring the secondary targets (or `to` one) up to date with the primary (a job)");

        var jobs = api.MapGroup("/jobs").WithTags("jobs");
        jobs.MapGet("", async (string? state, int? limit, string? cursor, ListJobs use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new ListJobsRequest(state, limit ?? 50, cursor), ct)))
            .WithName("ListJobs").WithSummary("Jobs, newest first").RequireAuthorization(Permissions.Read);
        jobs.MapGet("/{id}", async (string id, GetJob use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new GetJobRequest(id), ct)))
            .WithName("GetJob").WithSummary("A job: state, progress (phase, bytes, files), timings, result or error").RequireAuthorization(Permissions.Read);
        jobs.MapGet("/{id}/events", (string id, CallContext call, JobQueue queue, CancellationToken ct) => TypedResults.ServerSentEvents(queue.WatchAsync(call.Workspace, id, ct), "job"))
            .WithName("WatchJob").WithSummary("The job's state as Server-Sent Events (`event: job`), until it ends").RequireAuthorization(Permissions.Read);
        jobs.MapDelete("/{id}", async (string id, CancelJob use, CancellationToken ct) => TypedResults.Ok(await use.ExecuteAsync(new CancelJobRequest(id), ct)))
            .WithName("CancelJob").WithSummary("Cancel a queued or running job (a finished one is left as it is)").RequireAuthorization(Permissions.Operate);
        return api;
    }

    private static async Task<AcceptedAtRoute<JobView>> SubmitAsync<TUseCase, TRequest, TResult>(CallContext call, JobQueue jobs, string kind, string? source, TRequest request, JsonTypeInfo<TResult> info, CancellationToken cancellationToken)
        where TUseCase : IUseCase<TRequest, TResult>
    {
        var workspace = call.Workspace;
        var job = await jobs.SubmitAsync(JobSubmission.For<TUseCase, TRequest, TResult>(kind, source, request, info, workspace.Reopen, call.Actor, call.CorrelationId), cancellationToken);
        return TypedResults.AcceptedAtRoute(job, "GetJob", new RouteValueDictionary { ["id"] = job.Id });
    }
}
