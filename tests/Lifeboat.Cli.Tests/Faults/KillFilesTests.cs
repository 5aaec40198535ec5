namespace Lifeboat.Cli.Tests.Faults;

/// <summary>
/// The kill-at-a-random-point harness over a file-tree source (issue 19, "the fault matrix, kept"; docs/reliability.md):
/// the real program is killed with SIGKILL during backup, prune, expire and replicate — after a seeded random delay and
/// just before chosen renames, unlinks and fsyncs of the local target (<see cref="Lifeboat.Targets.Local.FaultHook"/>).
/// After every trial verify --read-data passes, the next backup succeeds and every completed backup restores identical to
/// its source. Quick by default; LIFEBOAT_FAULTS_TRIALS=N for the long run (see FaultRun).
/// </summary>
public sealed class KillBackupTests
{
    [Fact]
    public async Task A_files_backup_killed_at_any_point_leaves_a_repository_that_verifies_and_restores_every_completed_backup()
    {
        var run = new FaultRun("files-backup", quickTrials: 1);
        using var t = new FilesTrials(run);
        await t.InitAsync();
        await run.TrialsAsync(
            "backup",
            () =>
            {
                t.Mutate();
                return Task.CompletedTask;
            },
            plan => t.KilledAsync("backup", plan, "backup", "--source", "app"),
            (where, _) => t.CheckAsync(where, restoreAll: run.Long),
            [("rename", 1), ("fsync", 0)]);
        await t.RestoreAllAsync(run.Where("backup", new KillPlan.After(0)) + " final");
    }
}

public sealed class KillPruneTests
{
    [Fact]
    public async Task A_prune_killed_at_any_point_never_loses_data_a_backup_needs()
    {
        var run = new FaultRun("files-prune", quickTrials: 1);
        using var t = new FilesTrials(run);
        await t.InitAsync();
        for (var i = 0; i < 3; i++)
        {
            t.Mutate();
            await t.BackupAsync("prune setup");
        }

        await run.TrialsAsync(
            "prune",
            async () =>
            {
                // Give prune work: the oldest backup forgotten (its changed blocks become garbage, packs are repacked).
                var oldest = t.Backups.Order(StringComparer.Ordinal).First();
                await t.F.Cli.OkAsync("forget", oldest);
                t.Forget(oldest);
            },
            plan => t.KilledAsync("prune", plan, "prune"),
            (where, _) => t.CheckAsync(where, restoreAll: true),
            [("unlink", 1), ("unlink", 0)]);
        await t.F.Cli.OkAsync("prune");
        await t.RestoreAllAsync("prune final");
    }
}

public sealed class KillExpireTests
{
    [Fact]
    public async Task An_expire_killed_at_any_point_keeps_what_retention_keeps_and_never_looks_like_damage()
    {
        var run = new FaultRun("files-expire", quickTrials: 1);
        using var t = new FilesTrials(run);
        await t.InitAsync();
        t.F.Cli.Environment["LIFEBOAT__Sources__app__Retention__KeepLast"] = "2";
        await t.BackupAsync("expire setup");
        await run.TrialsAsync(
            "expire",
            async () =>
            {
                t.Mutate();
                await t.BackupAsync("expire setup");
            },
            plan => t.KilledAsync("expire", plan, "expire"),
            (where, _) => t.CheckAsync(where, restoreAll: true, mayExpire: true),
            [("unlink", 0)]);
        await t.F.Cli.OkAsync("expire");
        Assert.Equal(2, (await t.ListAsync()).Length);
        await t.ForgetGoneAsync();
        await t.RestoreAllAsync("expire final");
    }
}

public sealed class KillReplicateTests
{
    [Fact]
    public async Task A_replicate_killed_at_any_point_leaves_both_targets_verifying_and_the_replica_restores_every_backup()
    {
        var run = new FaultRun("files-replicate", quickTrials: 1);
        using var t = new FilesTrials(run);
        await t.InitAsync();
        var offsite = t.F.Dir.Combine("offsite");
        await t.F.Cli.OkAsync("repo", "target", "add", "offsite", "file://" + offsite, "--manual");
        // The replica read on its own, with its own catalog: what a user has when the primary is lost.
        var alone = new CliRunner(t.F.Dir.Dir("alone"), t.F.Cli.Environment);
        File.WriteAllText(
            Path.Combine(alone.WorkingDirectory, "lifeboat.json"),
            $$"""{ "Repository": { "Url": "file://{{offsite}}" }, "Sources": { "app": { "Kind": "files", "Path": "{{t.F.Source}}" } } }""");
        await t.BackupAsync("replicate setup");
        await run.TrialsAsync(
            "replicate",
            async () =>
            {
                t.Mutate();
                await t.BackupAsync("replicate setup");
            },
            plan => t.KilledAsync("replicate", plan, "replicate"),
            async (where, _) =>
            {
                var replica = await alone.RunAsync("verify", "--read-data");
                Assert.True(replica.ExitCode == 0, $"{where}: verify --read-data of the replica after the kill:\n{replica}");
                Assert.DoesNotContain("damaged", replica.Error, StringComparison.Ordinal);
                var again = await t.F.Cli.RunAsync("replicate");
                Assert.True(again.ExitCode == 0, $"{where}: the next replicate failed:\n{again}");
                await alone.OkAsync("catalog", "rebuild");
                Assert.Equal(t.Backups.Order(StringComparer.Ordinal), (await t.ListAsync(alone)).Order(StringComparer.Ordinal));
                await t.RestoreAllAsync(where + " (from the replica)", alone);
                await t.CheckAsync(where, restoreAll: false);
            },
            [("rename", 0)]);
    }
}
