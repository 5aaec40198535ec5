using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lifeboat.Cli.Tests.Cluster;

/// <summary>
/// `lifeboat drill` against a real PostgreSQL 15 cluster: a good backup passes every check, a damaged chunk, a failing
/// smoke query and a missed RTO fail it, and an interrupted drill leaves no scratch server or directory behind.
/// </summary>
public sealed class DrillTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Edits the fixture's configuration: scratch and report directories inside the test, then <paramref name="edit"/>.</summary>
    private static void Configure(ClusterFixture f, Action<JsonObject, JsonObject>? edit = null, string sourceName = "db")
    {
        var root = JsonNode.Parse(File.ReadAllText(f.ConfigPath))!.AsObject();
        Directory.CreateDirectory(f.Dir.Combine("scratch"));
        File.SetUnixFileMode(f.Dir.Combine("scratch"), (UnixFileMode)0b111_101_101);
        root["Drill"] = new JsonObject
        {
            ["ScratchDirectory"] = f.Dir.Combine("scratch"),
            ["ReportsDirectory"] = f.Dir.Combine("reports"),
            ["Timeout"] = "00:05:00",
        };
        var source = root["Sources"]![sourceName]!.AsObject();
        edit?.Invoke(root, source);
        File.WriteAllText(f.ConfigPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static JsonElement Check(JsonElement report, string name)
        => report.GetProperty("checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    private static void AssertNoScratchLeft(ClusterFixture f)
    {
        Assert.Empty(Directory.EnumerateFileSystemEntries(f.Dir.Combine("scratch")));
        var postgres = Directory.EnumerateDirectories("/proc")
            .Select(p => Path.Combine(p, "cmdline"))
            .Select(p => { try { return File.ReadAllText(p); } catch (IOException) { return ""; } catch (UnauthorizedAccessException) { return ""; } })
            .Where(c => c.Contains(f.Dir.Combine("scratch"), StringComparison.Ordinal))
            .ToList();
        Assert.Empty(postgres);
    }

    [Fact]
    public async Task A_good_backup_passes_with_exact_row_counts_amcheck_and_smoke_queries_and_status_shows_the_proven_point()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table events (id int primary key, kind text); insert into events select g, 'open' from generate_series(1, 2000) g; create table other (x int); insert into other select generate_series(1, 77)");
        Configure(f, (_, source) =>
        {
            source["Rto"] = "00:10:00";
            source["Drill"] = new JsonObject
            {
                ["SmokeQueries"] = new JsonArray(
                    new JsonObject { ["Name"] = "events exist", ["Sql"] = "select count(*) from events where kind = 'open'", ["Expect"] = ">= 1" },
                    // The scratch copy goes through the rule of every restored copy: no archiving, and the mark wal-push checks.
                    new JsonObject { ["Name"] = "archiving off", ["Sql"] = "select current_setting('archive_mode')", ["Expect"] = "= 'off'" },
                    new JsonObject { ["Name"] = "restored copy", ["Sql"] = "select pg_read_file('lifeboat_restored_copy') like '%archive mode: off%'", ["Expect"] = "= true" }),
            };
        });
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        await f.ExecAsync("insert into events select g, 'late' from generate_series(2001, 2100) g");
        await f.SwitchAndWaitForArchiveAsync();

        var drill = await f.RunAsync("drill", "--source", "db", "--json");
        Assert.True(drill.ExitCode == 0, drill.ToString());
        var report = JsonDocument.Parse(drill.Out).RootElement;
        foreach (var name in new[] { "free space", "restore", "recovery", "row counts", "amcheck", "smoke: events exist", "smoke: archiving off", "smoke: restored copy", "RTO objective", "cleanup" })
        {
            Assert.True(Check(report, name).GetProperty("status").GetString() == "passed", $"{name}: {Check(report, name)}\n{drill.Error}");
        }

        AssertNoScratchLeft(f);
        Assert.True(File.Exists(report.GetProperty("reports").GetProperty("html").GetString()));
        Assert.True(File.Exists(report.GetProperty("reports").GetProperty("json").GetString()));

        // The human form: every check on stderr, the one-line summary on stdout; a random point inside the window.
        var human = await f.RunAsync("drill", "--source", "db", "--random-point");
        Assert.True(human.ExitCode == 0, human.ToString());
        Assert.StartsWith("drill ", human.Out, StringComparison.Ordinal);
        Assert.Contains("of 'db': PASSED", human.Out, StringComparison.Ordinal);
        Assert.Contains("RTO ", human.Out, StringComparison.Ordinal);
        Assert.Contains("ok   amcheck", human.Error, StringComparison.Ordinal);
        Assert.Contains("note random point ", human.Error, StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "lifeboat-drill-demo.txt"), human.ToString());

        var status = await f.OkAsync("status");
        Assert.Contains("proven restorable", status.All, StringComparison.Ordinal);
        var drills = JsonDocument.Parse((await f.OkAsync("status", "--json")).Out).RootElement.GetProperty("drills")[0];
        Assert.Equal("db", drills.GetProperty("source").GetString());
        Assert.Equal("passed", drills.GetProperty("latestResult").GetString());
        Assert.Equal(report.GetProperty("backup").GetProperty("id").GetString(), drills.GetProperty("lastProvenBackup").GetString());
        Assert.True(drills.GetProperty("lastProvenPoint").GetDateTimeOffset() > TimeProvider.System.GetUtcNow().AddHours(-1));
        Assert.True(drills.GetProperty("latestRtoSeconds").GetDouble() > 0);
        Assert.False(drills.GetProperty("rtoViolated").GetBoolean());
    }

    [Fact]
    public async Task A_failing_smoke_query_and_a_missed_rto_fail_the_drill_and_a_damaged_chunk_fails_it_naming_the_damage()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table events (id int primary key); insert into events select generate_series(1, 500)");
        Configure(f, (_, source) =>
        {
            source["Rto"] = "00:00:00.001";
            source["Drill"] = new JsonObject
            {
                ["SmokeQueries"] = new JsonArray(
                    new JsonObject { ["Name"] = "enough events", ["Sql"] = "select count(*) from events", ["Expect"] = ">= 1000" },
                    new JsonObject { ["Name"] = "some events", ["Sql"] = "select count(*) from events", ["Expect"] = ">= 1" }),
            };
        });
        await f.OkAsync("backup", "--source", "db", "--type", "full");

        var drill = await f.RunAsync("drill", "--source", "db", "--json");
        Assert.True(drill.ExitCode == 1, drill.ToString());
        var report = JsonDocument.Parse(drill.Out).RootElement;
        Assert.Equal("failed", report.GetProperty("result").GetString());
        var smoke = Check(report, "smoke: enough events");
        Assert.Equal("failed", smoke.GetProperty("status").GetString());
        Assert.Contains("returned 500", smoke.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("passed", Check(report, "smoke: some events").GetProperty("status").GetString());
        var rto = Check(report, "RTO objective");
        Assert.Equal("failed", rto.GetProperty("status").GetString());
        Assert.Contains("VIOLATED", rto.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(report.GetProperty("rto").GetProperty("violated").GetBoolean());
        Assert.True(report.GetProperty("rto").GetProperty("seconds").GetDouble() > 0.001);
        // The restore itself worked: only the smoke query makes the point unproven; the RTO miss is a violation.
        Assert.Equal("passed", Check(report, "restore").GetProperty("status").GetString());
        Assert.Equal("passed", Check(report, "amcheck").GetProperty("status").GetString());
        AssertNoScratchLeft(f);

        var status = await f.RunAsync("status");
        Assert.Contains("VIOLATED", status.All, StringComparison.Ordinal);

        // Not enough free space for the scratch copy: refused before anything is written, saying how much it needs.
        Configure(f, (root, _) => root["Drill"]!["WalMarginBytes"] = 1L << 60);
        var refused = await f.RunAsync("drill", "--source", "db", "--json");
        Assert.True(refused.ExitCode == 1, refused.ToString());
        var space = Check(JsonDocument.Parse(refused.Out).RootElement, "free space");
        Assert.Equal("failed", space.GetProperty("status").GetString());
        Assert.Contains("refused: the scratch copy needs ", space.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(" PiB", space.GetProperty("detail").GetString(), StringComparison.Ordinal);
        AssertNoScratchLeft(f);
        Configure(f);

        // Damage one data pack of the backup: the drill fails at the restore, naming the pack, exit 3.
        var pack = Directory.EnumerateFiles(Path.Combine(f.RepoPath, "data"), "*", SearchOption.AllDirectories).OrderByDescending(p => new FileInfo(p).Length).First();
        var bytes = File.ReadAllBytes(pack);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(pack, bytes);
        var name = "data/" + Path.GetRelativePath(Path.Combine(f.RepoPath, "data"), pack);
        var damaged = await f.RunAsync("drill", "--source", "db", "--json");
        Assert.True(damaged.ExitCode == 3, damaged.ToString());
        var damagedReport = JsonDocument.Parse(damaged.Out).RootElement;
        var restore = Check(damagedReport, "restore");
        Assert.Equal("failed", restore.GetProperty("status").GetString());
        Assert.Contains(name, restore.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(name, damagedReport.GetProperty("damage").GetProperty("objects").ToString(), StringComparison.Ordinal);
        Assert.Contains(name, damagedReport.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.False(damagedReport.GetProperty("restorable").GetBoolean());
        AssertNoScratchLeft(f);
    }

    /// <summary>The scratch server of the running drill, once its postmaster is up.</summary>
    private static async Task WaitForScratchServerAsync(ClusterFixture f, Func<bool>? stillRunning = null)
    {
        for (var waited = 0; ; waited += 50)
        {
            if (Directory.EnumerateFiles(f.Dir.Combine("scratch"), "postmaster.pid", SearchOption.AllDirectories).Any())
            {
                return;
            }

            Assert.True(waited < 120_000 && (stillRunning?.Invoke() ?? true), "the drill did not start its scratch server");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task An_interrupted_drill_leaves_no_scratch_server_or_directory_and_one_killed_outright_is_swept_by_the_next()
    {
        await using var f = await ClusterFixture.StartAsync();
        await f.ExecAsync("create table events (id int primary key); insert into events select generate_series(1, 500)");
        Configure(f);
        await f.OkAsync("backup", "--source", "db", "--type", "full");
        var environment = new Dictionary<string, string?>();

        // SIGTERM (systemd stopping the unit): the drill stops its server, removes the directory and records the cancellation.
        using (var process = System.Diagnostics.Process.Start(LifeboatProcess.StartInfo(f.Dir.Path, environment, "--config", f.ConfigPath, "drill", "--source", "db"))!)
        {
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            await WaitForScratchServerAsync(f, () => !process.HasExited);
            using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Ct);
            }

            await process.WaitForExitAsync(Ct);
            Assert.True(process.ExitCode != 0, await stderr);
            AssertNoScratchLeft(f);
        }

        // The interruption is evidence too: its report says so.
        var reports = Directory.EnumerateFiles(f.Dir.Combine("reports", "db"), "*.json").Select(p => JsonDocument.Parse(File.ReadAllText(p)).RootElement).ToList();
        Assert.Contains(reports, r => r.GetProperty("result").GetString() == "cancelled");

        // kill -9: nothing can clean up; the scratch server keeps running until the next drill sweeps it away.
        using (var process = System.Diagnostics.Process.Start(LifeboatProcess.StartInfo(f.Dir.Path, environment, "--config", f.ConfigPath, "drill", "--source", "db"))!)
        {
            await WaitForScratchServerAsync(f, () => !process.HasExited);
            process.Kill();
            await process.WaitForExitAsync(Ct);
        }

        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(f.Dir.Combine("scratch")));

        // The next drill (in-process, cancelled like Ctrl-C once its own server is up) removes the leftover and its own copy.
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var leftover = Directory.EnumerateDirectories(f.Dir.Combine("scratch")).Single();
        var running = f.Cli.RunCancellableAsync(["--config", f.ConfigPath, "drill", "--source", "db"], cancel.Token);
        for (var waited = 0; Directory.Exists(leftover); waited += 50)
        {
            Assert.True(waited < 60_000, "the next drill did not sweep the leftover scratch copy");
            await Task.Delay(50, Ct);
        }

        await WaitForScratchServerAsync(f);
        await cancel.CancelAsync();
        var cancelled = await running;
        Assert.True(cancelled.ExitCode != 0, cancelled.ToString());
        Assert.Contains("removed the scratch copy of an interrupted drill", cancelled.All, StringComparison.Ordinal);
        AssertNoScratchLeft(f);

        // The time limit: the drill fails with the limit named, and cleans up.
        var limited = await f.RunAsync("drill", "--source", "db", "--timeout", "3s", "--json");
        Assert.True(limited.ExitCode == 1, limited.ToString());
        var limit = Check(JsonDocument.Parse(limited.Out).RootElement, "time limit");
        Assert.Equal("failed", limit.GetProperty("status").GetString());
        Assert.Contains("did not finish within 3.0 s", limit.GetProperty("detail").GetString(), StringComparison.Ordinal);
        AssertNoScratchLeft(f);
    }

    [Fact]
    public async Task A_logical_backup_is_loaded_into_a_scratch_cluster_and_checked_and_a_failing_smoke_query_fails_it()
    {
        await using var f = await ClusterFixture.StartAsync(archiving: false);
        await f.ExecAsync("create database shop; create role clerk");
        await f.Cluster.ExecuteAsync("create table orders (id int primary key, amount numeric); insert into orders select g, g * 1.5 from generate_series(1, 3000) g; grant select on orders to clerk", Ct, "shop");
        await f.OkAsync("source", "add-database", "shop", "--conn", f.Cluster.ConnectionString("shop"), "--database", "shop");
        Configure(f, (_, source) => source["Drill"] = new JsonObject
        {
            ["SmokeQueries"] = new JsonArray(
                new JsonObject { ["Name"] = "orders", ["Sql"] = "select count(*) from orders", ["Expect"] = "= 3000" },
                new JsonObject { ["Name"] = "clerk may read", ["Sql"] = "select has_table_privilege('clerk', 'orders', 'select')", ["Expect"] = "= true" }),
        }, "shop");
        await f.OkAsync("backup", "--source", "shop");

        var drill = await f.RunAsync("drill", "--source", "shop", "--json");
        Assert.True(drill.ExitCode == 0, drill.ToString());
        var report = JsonDocument.Parse(drill.Out).RootElement;
        foreach (var name in new[] { "restore", "content", "load", "amcheck", "smoke: orders", "smoke: clerk may read", "cleanup" })
        {
            Assert.True(Check(report, name).GetProperty("status").GetString() == "passed", $"{name}: {Check(report, name)}\n{drill.Error}");
        }

        Assert.True(report.GetProperty("timings").GetProperty("recoverySeconds").GetDouble() > 0);
        AssertNoScratchLeft(f);

        // The data changes after the backup: the same expectation fails on a new backup's drill.
        await f.Cluster.ExecuteAsync("delete from orders where id > 10", Ct, "shop");
        await f.OkAsync("backup", "--source", "shop");
        var failing = await f.RunAsync("drill", "--source", "shop");
        Assert.True(failing.ExitCode == 1, failing.ToString());
        Assert.Contains("FAILED", failing.Out, StringComparison.Ordinal);
        Assert.Contains("smoke: orders: returned 10", failing.Out, StringComparison.Ordinal);
        AssertNoScratchLeft(f);
    }
}
