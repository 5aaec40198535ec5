using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Application.Jobs;
using Lifeboat.Engine.UseCases.Backups;
using Lifeboat.Engine.UseCases.Jobs;
using Lifeboat.Engine.UseCases.Maintenance;
using Lifeboat.Targets;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Engine.Tests;

/// <summary>Long operations as jobs: a backup run in the background, its failure, its cancellation, and a restart.</summary>
public sealed class JobQueueTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JobQueue> StartedQueueAsync(EngineFixture f, Func<ITarget, ITarget>? decorator = null)
    {
        var queue = f.Services(decorator).GetRequiredService<JobQueue>();
        await queue.StartAsync(Ct);
        return queue;
    }

    private static JobSubmission Backup(EngineFixture f, string source = "app")
        => JobSubmission.For<BackupSource, BackupSourceRequest, BackupSourceResult>(
            "backup", source, new BackupSourceRequest(source), LifeboatJson.Default.BackupSourceResult, () => f.Workspace(), Actor.Cli("tester"), "corr-1");

    private static async Task<List<JobView>> WatchToEndAsync(JobQueue queue, EngineFixture f, string id)
    {
        var views = new List<JobView>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        await foreach (var view in queue.WatchAsync(f.Workspace(), id, timeout.Token))
        {
            views.Add(view);
        }

        return views;
    }

    [Fact]
    public async Task A_backup_job_is_queued_runs_and_succeeds_with_the_backup_in_its_result_and_in_the_repository()
    {
        using var f = new EngineFixture();
        var queue = await StartedQueueAsync(f);

        var submitted = await queue.SubmitAsync(Backup(f), Ct);
        // An idle worker may pick the job up before SubmitAsync reads it back (./test.sh saw "running" once).
        Assert.Contains(submitted.State, new[] { JobStates.Queued, JobStates.Running });
        Assert.StartsWith("job_", submitted.Id, StringComparison.Ordinal);
        Assert.Equal("backup", submitted.Kind);
        Assert.Equal("app", submitted.Source);

        var views = await WatchToEndAsync(queue, f, submitted.Id);
        var states = views.Select(v => v.State).Distinct().ToList();
        Assert.Equal(JobStates.Succeeded, states[^1]);
        Assert.Subset(new HashSet<string> { JobStates.Queued, JobStates.Running, JobStates.Succeeded }, states.ToHashSet());
        var final = views[^1];
        Assert.NotNull(final.Started);
        Assert.NotNull(final.Finished);
        Assert.True(final.Progress.Bytes > 0, "no progress with bytes was observed");
        Assert.True(final.Progress.Files > 0);
        Assert.Equal("backup", final.Progress.Phase);

        // The result is the use case's JSON, and the backup it names is in the repository.
        var backupId = final.Result!.Value.GetProperty("id").GetString()!;
        var backups = await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct);
        Assert.Contains(backups.Backups, b => b.Id == backupId);

        // Once finished it is read from the catalog, the same, with the submitter recorded.
        var stored = await f.Use<GetJob>().ExecuteAsync(new GetJobRequest(submitted.Id), Ct);
        Assert.Equal(JobStates.Succeeded, stored.State);
        Assert.Equal(backupId, stored.Result!.Value.GetProperty("id").GetString());
        Assert.Equal(Actor.Cli("tester"), stored.Actor);
        Assert.Equal("corr-1", stored.CorrelationId);
        Assert.Equal(final.Progress.Bytes, stored.Progress.Bytes);

        var page = await f.Use<ListJobs>().ExecuteAsync(new ListJobsRequest(State: JobStates.Succeeded), Ct);
        Assert.Equal([submitted.Id], page.Items.Select(j => j.Id));
        Assert.Null(page.Next);
        Assert.Empty((await f.Use<ListJobs>().ExecuteAsync(new ListJobsRequest(State: JobStates.Failed), Ct)).Items);

        // Cancelling a finished job changes nothing, and says so.
        var cancel = await f.Use<CancelJob>().ExecuteAsync(new CancelJobRequest(submitted.Id), Ct);
        Assert.Equal(JobCancelOutcomes.AlreadyFinished, cancel.Outcome);
        Assert.Equal(JobStates.Succeeded, cancel.Job.State);
    }

    [Fact]
    public async Task A_job_whose_use_case_fails_ends_failed_with_the_error_code_and_message()
    {
        using var f = new EngineFixture();
        var queue = await StartedQueueAsync(f);

        var job = await queue.SubmitAsync(Backup(f, "nope"), Ct);
        var final = (await WatchToEndAsync(queue, f, job.Id))[^1];
        Assert.Equal(JobStates.Failed, final.State);
        Assert.Equal("InvalidInput", final.Error!.Code);
        Assert.Contains("there is no source 'nope'", final.Error.Message, StringComparison.Ordinal);
        Assert.Null(final.Result);

        var stored = await queue.GetAsync(f.Workspace(), job.Id, Ct);
        Assert.Equal(JobStates.Failed, stored!.State);
        Assert.Equal("InvalidInput", stored.Error!.Code);

        // Not one of ours: code Failed and the message, no stack trace.
        var crash = await queue.SubmitAsync(new JobSubmission("backup", null, () => f.Workspace(), Actor.System, "corr-2", (_, _) => throw new InvalidOperationException("boom")), Ct);
        var crashed = (await WatchToEndAsync(queue, f, crash.Id))[^1];
        Assert.Equal(JobStates.Failed, crashed.State);
        Assert.Equal("Failed", crashed.Error!.Code);
        Assert.Equal("boom", crashed.Error.Message);
    }

    [Fact]
    public async Task Cancelling_a_running_backup_ends_it_cancelled_and_the_repository_verifies_clean()
    {
        using var f = new EngineFixture();
        var queue = await StartedQueueAsync(f, t => new FaultyTarget(t) { SaveDelay = TimeSpan.FromSeconds(3) });

        var job = await queue.SubmitAsync(Backup(f), Ct);
        await foreach (var view in queue.WatchAsync(f.Workspace(), job.Id, Ct))
        {
            if (view.State == JobStates.Running)
            {
                break;
            }
        }

        var cancel = await queue.CancelAsync(f.Workspace(), job.Id, Ct);
        Assert.Equal(JobCancelOutcomes.CancellationRequested, cancel!.Outcome);

        var final = (await WatchToEndAsync(queue, f, job.Id))[^1];
        Assert.Equal(JobStates.Cancelled, final.State);
        Assert.Equal("Cancelled", final.Error!.Code);
        Assert.Equal(JobStates.Cancelled, (await queue.GetAsync(f.Workspace(), job.Id, Ct))!.State);

        var verify = await f.Use<VerifyRepository>().ExecuteAsync(new VerifyRepositoryRequest(), Ct);
        Assert.True(verify.Healthy, string.Join("; ", verify.Damage.Select(d => d.Object + ": " + d.Problem)));
        Assert.Empty((await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups);
    }

    [Fact]
    public async Task A_queued_job_is_cancelled_at_once_and_never_runs()
    {
        using var f = new EngineFixture();
        var services = f.Services(t => new FaultyTarget(t) { SaveDelay = TimeSpan.FromSeconds(3) });
        var queue = new JobQueue(services.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<JobQueue>.Instance, new JobQueueOptions { MaxConcurrency = 1 });
        await using (queue)
        {
            await queue.StartAsync(Ct);
            var first = await queue.SubmitAsync(Backup(f), Ct);
            var ran = false;
            var second = await queue.SubmitAsync(new JobSubmission("backup", "app", () => f.Workspace(), Actor.System, "corr-3", (_, _) =>
            {
                ran = true;
                return Task.FromResult(default(JsonElement));
            }), Ct);

            var cancel = await queue.CancelAsync(f.Workspace(), second.Id, Ct);
            Assert.Equal(JobCancelOutcomes.Cancelled, cancel!.Outcome);
            Assert.Equal(JobStates.Cancelled, cancel.Job.State);
            await queue.CancelAsync(f.Workspace(), first.Id, Ct);
            Assert.Equal(JobStates.Cancelled, (await WatchToEndAsync(queue, f, first.Id))[^1].State);
            Assert.False(ran);
            Assert.Equal(JobStates.Cancelled, (await queue.GetAsync(f.Workspace(), second.Id, Ct))!.State);
        }
    }

    [Fact]
    public async Task A_job_left_running_by_a_previous_process_is_failed_with_the_reason_at_recovery()
    {
        using var f = new EngineFixture();
        var catalog = await f.Use<CatalogAccess>().OpenAsync(Ct);
        var created = DateTimeOffset.Parse("2026-11-20T02:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        await catalog.UpsertJobAsync(new JobRecord
        {
            Id = "job_20261120T020000000Z_0000000001",
            Tenant = Workspace.DefaultName,
            Kind = "backup",
            Source = "app",
            State = JobStates.Running,
            Actor = """{"kind":"cli","name":"old"}""",
            CorrelationId = "corr-old",
            Created = created,
            Started = created,
            Bytes = 1234,
        }, Ct);

        var queue = f.Services().GetRequiredService<JobQueue>();
        Assert.Equal(1, await queue.RecoverAsync(f.Workspace(), Ct));

        var job = await queue.GetAsync(f.Workspace(), "job_20261120T020000000Z_0000000001", Ct);
        Assert.Equal(JobStates.Failed, job!.State);
        Assert.Equal("the server stopped while the job was queued or running", job.Error!.Message);
        Assert.NotNull(job.Finished);
        Assert.Equal(1234, job.Progress.Bytes);
        Assert.Equal(new Actor("cli", "old"), job.Actor);
        Assert.Equal(0, await queue.RecoverAsync(f.Workspace(), Ct));

        var missing = await Assert.ThrowsAsync<Core.LifeboatException>(() => f.Use<GetJob>().ExecuteAsync(new GetJobRequest("job_nope"), Ct));
        Assert.Equal(Core.ErrorCode.NotFound, missing.Code);
    }

    [Fact]
    public async Task A_job_goes_on_when_the_submitter_gives_up_and_watching_ends_with_its_final_state()
    {
        using var f = new EngineFixture();
        var queue = await StartedQueueAsync(f, t => new FaultyTarget(t) { SaveDelay = TimeSpan.FromMilliseconds(200) });

        JobView job;
        using (var request = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            job = await queue.SubmitAsync(Backup(f), request.Token);
            await request.CancelAsync();
        }

        var views = await WatchToEndAsync(queue, f, job.Id);
        Assert.Equal(JobStates.Succeeded, views[^1].State);
        var stored = await queue.GetAsync(f.Workspace(), job.Id, Ct);
        Assert.Equal(views[^1].Progress with { Detail = null }, stored!.Progress with { Detail = null }); // the detail line is live only: the catalog keeps the counters
        Assert.Equal(views[^1].Finished, stored.Finished);
        Assert.Equal(views[^1].Result!.Value.GetProperty("id").GetString(), stored.Result!.Value.GetProperty("id").GetString());

        // Watching a finished job yields its final state once.
        var again = await WatchToEndAsync(queue, f, job.Id);
        Assert.Equal(JobStates.Succeeded, Assert.Single(again).State);
        Assert.Single((await f.Use<ListBackups>().ExecuteAsync(new ListBackupsRequest(), Ct)).Backups);
    }

    [Fact]
    public async Task Stopping_the_queue_cancels_the_running_job_and_records_it_cancelled()
    {
        using var f = new EngineFixture();
        var queue = await StartedQueueAsync(f, t => new FaultyTarget(t) { SaveDelay = TimeSpan.FromSeconds(3) });
        var job = await queue.SubmitAsync(Backup(f), Ct);
        await foreach (var view in queue.WatchAsync(f.Workspace(), job.Id, Ct))
        {
            if (view.State == JobStates.Running)
            {
                break;
            }
        }

        await queue.StopAsync(Ct);
        var stored = await queue.GetAsync(f.Workspace(), job.Id, Ct);
        Assert.Equal(JobStates.Cancelled, stored!.State);
        Assert.Contains("the server stopped", stored.Error!.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<Core.LifeboatException>(() => queue.SubmitAsync(Backup(f), Ct));
    }
}
