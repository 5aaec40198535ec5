using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Application;
using Lifeboat.Server;

namespace Lifeboat.Cli.Tests;

public sealed class OperationsCliTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Catalog_rebuild_recreates_from_the_repository_alone_what_the_lost_catalog_held()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        for (var i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(f.Source, $"n{i}.txt"), new string('n', 5000 * (i + 1)));
            await f.Cli.OkAsync("backup", "--source", "app");
        }

        var db = f.Dir.Combine("lifeboat.db");
        var before = await (await LifeboatCatalog.OpenSqliteAsync(db, TimeProvider.System, Ct)).BackupsAsync(null, Ct);
        Assert.Equal(3, before.Count);
        foreach (var file in Directory.EnumerateFiles(f.Dir.Path, "lifeboat.db*"))
        {
            File.Delete(file);
        }

        var rebuild = await f.Cli.OkAsync("catalog", "rebuild", "--json");
        var report = JsonDocument.Parse(rebuild.Out).RootElement;
        Assert.Equal(3, report.GetProperty("backups").GetInt32());
        Assert.Equal(0, report.GetProperty("unreferencedPacks").GetArrayLength());
        var after = await (await LifeboatCatalog.OpenSqliteAsync(db, TimeProvider.System, Ct)).BackupsAsync(null, Ct);
        Assert.Equal(before, after);
        await f.Cli.OkAsync("catalog", "rebuild");
        Assert.Equal(before, await (await LifeboatCatalog.OpenSqliteAsync(db, TimeProvider.System, Ct)).BackupsAsync(null, Ct));
    }

    [Fact]
    public async Task Status_exits_2_before_the_first_backup_and_0_after_it_and_the_run_history_records_the_backup()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        var none = await f.Cli.RunAsync("status", "--json");
        Assert.Equal(2, none.ExitCode);
        Assert.Equal("critical", JsonDocument.Parse(none.Out).RootElement.GetProperty("state").GetString());
        await f.Cli.OkAsync("backup", "--source", "app");
        var ok = await f.Cli.RunAsync("status");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("overall: healthy", ok.Out, StringComparison.Ordinal);
        var runs = await (await LifeboatCatalog.OpenSqliteAsync(f.Dir.Combine("lifeboat.db"), TimeProvider.System, Ct)).RunsAsync("app", null, 10, Ct);
        var run = Assert.Single(runs);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.True(run.BytesRead > 0);
        Assert.NotNull(run.BackupId);
    }

    [Fact]
    public async Task Forget_refuses_a_pinned_backup_until_it_is_unpinned()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        var id = JsonDocument.Parse((await f.Cli.OkAsync("list", "--json")).Out).RootElement.GetProperty("backups")[0].GetProperty("id").GetString()!;
        await f.Cli.OkAsync("pin", id, "--reason", "legal hold");
        var refused = await f.Cli.RunAsync("forget", id);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains($"backup {id} is pinned", refused.Error, StringComparison.Ordinal);
        await f.Cli.OkAsync("unpin", id);
        await f.Cli.OkAsync("forget", id);
    }

    [Fact]
    public async Task Serve_answers_health_status_runs_schedules_and_metrics()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        await f.Cli.OkAsync("backup", "--source", "app");
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), File.ReadAllText(f.Dir.Combine("lifeboat.json")).TrimEnd().TrimEnd('}') + ",\"Schedules\":{\"nightly\":{\"Source\":\"app\",\"Kind\":\"backup\",\"Cron\":\"0 2 * * *\"}}}");
        var config = ConfigFile.Resolve(f.Dir.Combine("lifeboat.json"), f.Cli.Environment, f.Dir.Path);
        var port = Lifeboat.Postgres.Tools.PostgresCluster.FreePort();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var started = new TaskCompletionSource<string>();
        var server = LifeboatServer.RunAsync(() => new Workspace(config, f.Cli.Environment, f.Dir.Path), TimeProvider.System, $"http://127.0.0.1:{port}", null, started.SetResult, stop.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var health = await http.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);
        Assert.Equal(200, (int)health.StatusCode);
        Assert.Equal(401, (int)(await http.GetAsync(new Uri("/api/v1/runs", UriKind.Relative), Ct)).StatusCode);
        var token = JsonDocument.Parse((await f.Cli.OkAsync("token", "create", "--name", "grafana", "--role", "viewer", "--json")).Out).RootElement.GetProperty("token").GetString();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var runs = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/runs?source=app", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal("succeeded", runs[0].GetProperty("status").GetString());
        var schedules = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/schedules", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal("nightly", schedules[0].GetProperty("name").GetString());
        var backups = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/backups?source=app", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal(runs[0].GetProperty("backupId").GetString(), backups[0].GetProperty("id").GetString());
        var status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/status?source=app", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("healthy", status.GetProperty("state").GetString());
        var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        Assert.Contains("lifeboat_backup_last_success_timestamp_seconds{tenant=\"default\",source=\"app\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("lifeboat_health_state{tenant=\"default\",source=\"app\",check=\"last backup\"} 0", metrics, StringComparison.Ordinal);
        await stop.CancelAsync();
        await server;
    }

    [Fact]
    public async Task Schedule_export_prints_cron_lines_and_systemd_units()
    {
        using var f = new CliFixture();
        await f.InitAsync();
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), File.ReadAllText(f.Dir.Combine("lifeboat.json")).TrimEnd().TrimEnd('}') + ",\"Schedules\":{\"nightly\":{\"Source\":\"app\",\"Kind\":\"full\",\"Cron\":\"30 2 * * *\",\"TimeZone\":\"Europe/Berlin\"}}}");
        var cron = await f.Cli.OkAsync("schedule", "export", "--format", "cron");
        Assert.Contains("CRON_TZ=Europe/Berlin", cron.Out, StringComparison.Ordinal);
        Assert.Matches(@"30 2 \* \* \* postgres .+ --config .+lifeboat\.json schedule run nightly", cron.Out);
        var systemd = await f.Cli.OkAsync("schedule", "export", "--format", "systemd");
        Assert.Contains("# ---- lifeboat-nightly.timer", systemd.Out, StringComparison.Ordinal);
        Assert.Contains("OnCalendar=*-*-* 02:30:00 Europe/Berlin", systemd.Out, StringComparison.Ordinal);
        Assert.Contains("Persistent=true", systemd.Out, StringComparison.Ordinal);
        var list = await f.Cli.OkAsync("schedule", "list", "--json");
        Assert.Equal("full", JsonDocument.Parse(list.Out).RootElement[0].GetProperty("kind").GetString());
        var bad = File.ReadAllText(f.Dir.Combine("lifeboat.json")).Replace("30 2 * * *", "99 2 * * *", StringComparison.Ordinal);
        File.WriteAllText(f.Dir.Combine("lifeboat.json"), bad);
        var invalid = await f.Cli.RunAsync("schedule", "list");
        Assert.Equal(2, invalid.ExitCode);
        Assert.Contains("schedule 'nightly'", invalid.Error, StringComparison.Ordinal);
        Assert.Contains("Cron '99 2 * * *' is not a valid cron expression", invalid.Error, StringComparison.Ordinal);
    }
}
