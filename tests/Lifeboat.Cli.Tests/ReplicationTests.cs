using System.Text.Json;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests;

/// <summary>Several targets per repository: repo target, target verify, replicate, per-target retention, restore --from and fallback.</summary>
public sealed class ReplicationTests
{
    private static string[] Files(string dir, string sub) => Directory.Exists(Path.Combine(dir, sub))
        ? Directory.EnumerateFiles(Path.Combine(dir, sub), "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order(StringComparer.Ordinal).ToArray()
        : [];

    /// <summary>Makes a local target unreachable: its directory moved away and a regular file in its place.</summary>
    private static string TakeDown(string dir)
    {
        var away = dir + ".away";
        Directory.Move(dir, away);
        File.WriteAllText(dir, "not a directory");
        return away;
    }

    private static void BringBack(string dir, string away)
    {
        File.Delete(dir);
        Directory.Move(away, dir);
    }

    [Fact]
    public async Task Replicate_copies_what_a_secondary_misses_verified_by_hash_and_a_second_run_copies_nothing()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var offsite = f.Dir.Combine("offsite");

        var add = await f.Cli.OkAsync("repo", "target", "add", "offsite", "file://" + offsite, "--manual");
        Assert.Contains($"added target 'offsite' (file://{offsite})", add.Out, StringComparison.Ordinal);
        Assert.Contains("replica started: key slots and config written", add.Out, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(f.RepoPath, "config")), File.ReadAllBytes(Path.Combine(offsite, "config")));

        var first = await f.Cli.OkAsync("replicate");
        Assert.Matches(@"target offsite: copied 1 backup\(s\), [1-9]\d* pack\(s\), 1 index object\(s\), 0 WAL file\(s\), 0 pin\(s\): .*, every copy verified by SHA-256", first.Out);
        Assert.Equal(Files(f.RepoPath, "data"), Files(offsite, "data"));
        Assert.Equal(Files(f.RepoPath, "backups"), Files(offsite, "backups"));
        foreach (var pack in Files(offsite, "data"))
        {
            Assert.Equal(Path.GetFileName(pack), TestData.Sha256(File.ReadAllBytes(Path.Combine(offsite, pack))));
        }

        var second = await f.Cli.OkAsync("replicate", "--to", "offsite");
        Assert.Equal("target offsite: up to date", second.Out.Trim());

        // The replica is a repository of its own: restorable from, and whole when read on its own.
        await f.Cli.OkAsync("restore", "--source", "app", "--to", "restored", "--from", "offsite");
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("restored")));
        var alone = new CliRunner(f.Dir.Dir("alone"), f.Cli.Environment);
        File.WriteAllText(Path.Combine(alone.WorkingDirectory, "lifeboat.json"), $$"""{ "Repository": { "Url": "file://{{offsite}}" } }""");
        var verify = await alone.OkAsync("verify", "--read-data");
        Assert.Contains("no damage found", verify.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_backup_replicates_to_every_secondary_and_one_that_is_down_is_reported_without_failing_it_and_caught_up_later()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var near = f.Dir.Combine("near");
        var far = f.Dir.Combine("far");
        await f.Cli.OkAsync("repo", "target", "add", "near", "file://" + near);
        await f.Cli.OkAsync("repo", "target", "add", "far", "file://" + far);
        var away = TakeDown(far);

        var backup = await f.Cli.RunAsync("backup", "--source", "app");
        Assert.Equal(0, backup.ExitCode);
        Assert.Matches(@"target near: copied 1 backup\(s\)", backup.Out);
        Assert.Contains("is committed on the primary target, but not replicated to target far", backup.Error, StringComparison.Ordinal);
        Assert.Single(Files(near, "backups"));

        var whileDown = await f.Cli.RunAsync("replicate");
        Assert.Equal(1, whileDown.ExitCode);
        Assert.Contains("target near: up to date", whileDown.Out, StringComparison.Ordinal);
        Assert.Contains($"replication to target far (file://{far}) failed", whileDown.Error, StringComparison.Ordinal);
        Assert.Contains("1 of 2 target(s) failed; the others were replicated", whileDown.Error, StringComparison.Ordinal);
        var listed = await f.Cli.OkAsync("repo", "target", "list");
        Assert.Matches(@"far\s+file://\S+\s+each source's own\s+yes\s+\S+ \S+ failed", listed.Out);

        BringBack(far, away);
        var caughtUp = await f.Cli.OkAsync("replicate");
        Assert.Matches(@"target far: copied 1 backup\(s\)", caughtUp.Out);
        Assert.Equal(Files(f.RepoPath, "backups"), Files(far, "backups"));
        await f.Cli.OkAsync("restore", "--source", "app", "--to", "from-far", "--from", "far");
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("from-far")));
    }

    [Fact]
    public async Task Expire_applies_each_targets_own_retention_and_replicate_does_not_copy_back_what_a_target_expired()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        f.Cli.Environment["LIFEBOAT__Sources__app__Retention__KeepLast"] = "2";
        var longer = f.Dir.Combine("long");
        var shorter = f.Dir.Combine("short");
        await f.Cli.OkAsync("repo", "target", "add", "long", "file://" + longer, "--retention", "last=3");
        await f.Cli.OkAsync("repo", "target", "add", "short", "file://" + shorter, "--retention", "last=1");
        for (var i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(f.Source, "changing.txt"), $"version {i}");
            await f.Cli.OkAsync("backup", "--source", "app");
        }

        var expire = await f.Cli.OkAsync("expire");
        Assert.Contains("target primary:", expire.Out, StringComparison.Ordinal);
        Assert.Contains("target long:", expire.Out, StringComparison.Ordinal);
        Assert.Contains("target short:", expire.Out, StringComparison.Ordinal);
        Assert.Equal(2, Files(f.RepoPath, "backups").Length);
        Assert.Equal(3, Files(longer, "backups").Length);
        Assert.Single(Files(shorter, "backups"));
        Assert.Equal(Files(f.RepoPath, "backups")[^1], Files(shorter, "backups")[0]);
        // expire.removed per target that lost backups, naming them.
        var removed = JsonDocument.Parse((await f.Cli.OkAsync("events", "list", "--type", "expire.removed", "--json")).Out).RootElement.GetProperty("items").EnumerateArray()
            .ToDictionary(e => e.GetProperty("data").GetProperty("target").GetString()!, e => e.GetProperty("data").GetProperty("backups").GetArrayLength());
        Assert.Equal(new Dictionary<string, int> { ["primary"] = 1, ["short"] = 2 }, removed);

        var again = await f.Cli.OkAsync("replicate");
        Assert.Contains("target long: up to date", again.Out, StringComparison.Ordinal);
        Assert.Contains("target short: up to date (1 backup(s) beyond its retention not copied)", again.Out, StringComparison.Ordinal);

        // The oldest backup is gone from the primary but restorable from the off-site copy.
        var oldest = Path.GetFileName(Files(longer, "backups")[0]);
        Assert.NotEqual(0, (await f.Cli.RunAsync("restore", "--source", "app", "--to", "old", "--backup", oldest)).ExitCode);
        await f.Cli.OkAsync("restore", "--source", "app", "--to", "old-offsite", "--backup", oldest, "--from", "long");
        Assert.Equal("version 0", File.ReadAllText(f.Dir.Combine("old-offsite/changing.txt")));
    }

    [Fact]
    public async Task Restore_reads_from_the_next_target_when_the_primary_is_unreachable_and_from_names_one_target_only()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var offsite = f.Dir.Combine("offsite");
        await f.Cli.OkAsync("repo", "target", "add", "offsite", "file://" + offsite);
        await f.Cli.OkAsync("backup", "--source", "app");
        Directory.Move(f.RepoPath, f.RepoPath + ".lost");

        var restore = await f.Cli.OkAsync("restore", "--source", "app", "--to", "restored");
        Assert.Contains($"Cannot read target primary (file://{f.RepoPath})", restore.Error, StringComparison.Ordinal);
        Assert.Contains($"Reading from target offsite (file://{offsite})", restore.Error, StringComparison.Ordinal);
        Assert.Empty(TreeComparer.Compare(f.Source, f.Dir.Combine("restored")));

        var onlyPrimary = await f.Cli.RunAsync("restore", "--source", "app", "--to", "again", "--from", "primary");
        Assert.NotEqual(0, onlyPrimary.ExitCode);
        Assert.DoesNotContain("offsite", onlyPrimary.Error, StringComparison.Ordinal);
        var unknown = await f.Cli.RunAsync("restore", "--source", "app", "--to", "again", "--from", "tape");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("there is no target 'tape'", unknown.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Target_verify_probes_every_operation_with_latency_and_leaves_nothing_behind()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var offsite = f.Dir.Combine("offsite");
        await f.Cli.OkAsync("repo", "target", "add", "offsite", "file://" + offsite);

        var ok = await f.Cli.OkAsync("target", "verify", "offsite");
        foreach (var step in new[] { "write", "stat", "read", "list", "no-overwrite", "delete" })
        {
            Assert.Matches($@"{step}\s+.+\s+ok\s+\d+\.\d ms", ok.Out);
        }

        Assert.Contains("holds: a replica of repository", ok.Out, StringComparison.Ordinal);
        Assert.Contains("target verified: every operation Lifeboat needs works", ok.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(offsite, "*", SearchOption.AllDirectories), p => p.Contains("probe", StringComparison.Ordinal));

        var json = await f.Cli.OkAsync("target", "verify", "primary", "--json");
        Assert.Contains("\"ok\": true", json.Out, StringComparison.Ordinal);
        Assert.Contains("\"latencyMs\"", json.Out, StringComparison.Ordinal);

        TakeDown(offsite);
        var failed = await f.Cli.RunAsync("target", "verify", "offsite");
        Assert.Equal(1, failed.ExitCode);
        Assert.Matches(@"write\s+create objects\s+FAILED", failed.Out);
        Assert.Contains("step(s) failed: fix the target's permissions or reachability", failed.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repo_target_add_refuses_bad_names_the_primarys_place_and_a_location_holding_something_else()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var primary = await f.Cli.RunAsync("repo", "target", "add", "primary", "file://" + f.Dir.Combine("x"));
        Assert.Equal(2, primary.ExitCode);
        Assert.Contains("'primary' is not a valid target name", primary.Error, StringComparison.Ordinal);

        var same = await f.Cli.RunAsync("repo", "target", "add", "copy", f.RepoUrl);
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("names the same place as target 'primary'", same.Error, StringComparison.Ordinal);

        var busy = f.Dir.Dir("busy");
        File.WriteAllText(Path.Combine(busy, "holiday.jpg"), "not a repository");
        var foreign = await f.Cli.RunAsync("repo", "target", "add", "busy", "file://" + busy);
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("is not empty and holds no Lifeboat repository (it has holiday.jpg)", foreign.Error, StringComparison.Ordinal);

        var badRetention = await f.Cli.RunAsync("repo", "target", "add", "off", "file://" + f.Dir.Combine("off"), "--retention", "forever");
        Assert.Equal(2, badRetention.ExitCode);
        Assert.Contains("--retention 'forever' is not a duration", badRetention.Error, StringComparison.Ordinal);

        var config = File.ReadAllText(f.Dir.Combine("lifeboat.json"));
        Assert.DoesNotContain("Targets", config, StringComparison.Ordinal);
        await f.Cli.OkAsync("repo", "target", "add", "off", "file://" + f.Dir.Combine("off"), "--retention", "90d");
        Assert.Contains("\"PitrWindow\": \"90.00:00:00\"", File.ReadAllText(f.Dir.Combine("lifeboat.json")), StringComparison.Ordinal);
        var removed = await f.Cli.OkAsync("repo", "target", "remove", "off");
        Assert.Contains("the replica at file://", removed.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(f.Dir.Combine("off/config")));
        Assert.DoesNotContain("Targets", File.ReadAllText(f.Dir.Combine("lifeboat.json")), StringComparison.Ordinal);
    }
}
