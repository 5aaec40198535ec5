using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Scheduling;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>Maintenance mode and operation locks through HTTP and the command line.</summary>
public sealed class MaintenanceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_pauses_a_source_its_backups_answer_503_with_Retry_After_status_and_metrics_show_it_and_leaving_lets_the_backup_run()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        using var operatorClient = server.Client(Roles.Operator);
        using var viewer = server.Client(Roles.Viewer);

        var body = new { source = "app", reason = "database upgrade", duration = "2h" };
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsJsonAsync(new Uri("/api/v1/maintenance", UriKind.Relative), body, Ct)).StatusCode);
        var entered = await admin.PostAsJsonAsync(new Uri("/api/v1/maintenance", UriKind.Relative), body, Ct);
        Assert.Equal(HttpStatusCode.OK, entered.StatusCode);
        var window = JsonDocument.Parse(await entered.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("app", window.GetProperty("source").GetString());
        Assert.Equal("admin-token", window.GetProperty("startedBy").GetString());

        var listed = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/maintenance", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal("database upgrade", listed.EnumerateArray().Single().GetProperty("reason").GetString());

        var refused = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("Maintenance", problem.GetProperty("code").GetString());
        Assert.Contains("source 'app' is in maintenance (database upgrade)", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var retryAfter = refused.Headers.RetryAfter!.Delta!.Value;
        Assert.InRange(retryAfter, TimeSpan.FromMinutes(115), TimeSpan.FromHours(2));
        Assert.Empty(JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/jobs", UriKind.Relative), Ct)).RootElement.GetProperty("items").EnumerateArray());

        var status = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/status", UriKind.Relative), Ct)).RootElement;
        var check = status.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == "maintenance");
        Assert.Equal("app", check.GetProperty("source").GetString());
        Assert.Equal("warning", check.GetProperty("state").GetString());
        using var anonymous = server.Client(null);
        var metrics = await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
        Assert.Contains("lifeboat_maintenance{tenant=\"default\",source=\"app\"} 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("lifeboat_maintenance{tenant=\"default\",source=\"\"} 0\n", metrics, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.DeleteAsync(new Uri("/api/v1/maintenance?source=app", UriKind.Relative), Ct)).StatusCode);
        var left = JsonDocument.Parse(await (await admin.DeleteAsync(new Uri("/api/v1/maintenance?source=app", UriKind.Relative), Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("database upgrade", left.GetProperty("ended").GetProperty("reason").GetString());
        Assert.Contains("lifeboat_maintenance{tenant=\"default\",source=\"app\"} 0\n", await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct), StringComparison.Ordinal);

        var accepted = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = await ServerFixture.FinishedJobAsync(viewer, JsonDocument.Parse(await accepted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.GetRawText());

        using var auditor = server.Client(Roles.Auditor);
        var audit = JsonDocument.Parse(await auditor.GetStringAsync(new Uri("/api/v1/audit", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == AuditActions.MaintenanceEnter);
    }

    [Fact]
    public async Task A_restore_of_a_source_whose_lock_another_operation_holds_answers_409_naming_the_holder_and_since_when()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await cli.Cli.OkAsync("backup", "--source", "app");
        await using var server = await ServerFixture.StartAsync(cli);
        using var operatorClient = server.Client(Roles.Operator);
        var workspace = new Workspace(ConfigFile.Resolve(cli.Dir.Combine("lifeboat.json"), cli.Cli.Environment, cli.Dir.Path), cli.Cli.Environment, cli.Dir.Path);

        using (OperationLock.Acquire(workspace.StateDirectory, "app", "restore by cli alice", TimeProvider.System))
        {
            var conflict = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/restores", UriKind.Relative), new { source = "app", to = cli.Dir.Combine("r1") }, Ct);
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
            var problem = JsonDocument.Parse(await conflict.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal("RepositoryLocked", problem.GetProperty("code").GetString());
            var detail = problem.GetProperty("detail").GetString()!;
            Assert.StartsWith("'app' is busy: restore by cli alice pid ", detail, StringComparison.Ordinal);
            Assert.Contains(" since ", detail, StringComparison.Ordinal);

            // The command line is refused alike (exit 1).
            var busy = await cli.Cli.RunAsync("backup", "--source", "app");
            Assert.Equal(1, busy.ExitCode);
            Assert.Contains("'app' is busy: restore by cli alice", busy.Error, StringComparison.Ordinal);
        }

        var accepted = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/restores", UriKind.Relative), new { source = "app", to = cli.Dir.Combine("r1") }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        using var viewer = server.Client(Roles.Viewer);
        var job = await ServerFixture.FinishedJobAsync(viewer, JsonDocument.Parse(await accepted.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        Assert.True(job.GetProperty("state").GetString() == "succeeded", job.GetRawText());
    }

    [Fact]
    public async Task The_command_line_enters_and_leaves_maintenance_is_refused_with_exit_1_and_may_ignore_it_explicitly()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var entered = await cli.Cli.OkAsync("maintenance", "enter", "--source", "app", "--reason", "disk swap", "--duration", "1h");
        Assert.Contains("source 'app' in maintenance (disk swap) until ", entered.Out, StringComparison.Ordinal);
        var status = JsonDocument.Parse((await cli.Cli.OkAsync("maintenance", "status", "--json")).Out).RootElement.GetProperty("items");
        Assert.Equal("disk swap", status.EnumerateArray().Single().GetProperty("reason").GetString());

        var refused = await cli.Cli.RunAsync("backup", "--source", "app");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("backup of 'app' refused: source 'app' is in maintenance (disk swap)", refused.Error, StringComparison.Ordinal);
        await cli.Cli.OkAsync("backup", "--source", "app", "--ignore-maintenance");

        var bad = await cli.Cli.RunAsync("maintenance", "enter", "--duration", "soon");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--duration 'soon' is not a duration", bad.Error, StringComparison.Ordinal);

        Assert.Contains("source 'app': maintenance left", (await cli.Cli.OkAsync("maintenance", "leave", "--source", "app")).Out, StringComparison.Ordinal);
        Assert.Contains("no source is in maintenance", (await cli.Cli.OkAsync("maintenance", "status")).Out, StringComparison.Ordinal);
        await cli.Cli.OkAsync("backup", "--source", "app");
    }

}
