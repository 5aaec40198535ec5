using System.Diagnostics;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>/metrics: the lifeboat_* series with their labels, and promtool's lint of the scraped text.</summary>
public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_scraped_metrics_pass_promtool_check_metrics_and_hold_the_backup_objective_job_and_http_series()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await cli.Cli.OkAsync("backup", "--source", "app");
        await using var server = await ServerFixture.StartAsync(cli);
        using var anonymous = server.Client(null);
        _ = await anonymous.GetAsync(new Uri("/healthz", UriKind.Relative), Ct);
        var text = await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        Assert.Contains("lifeboat_backup_last_success_timestamp_seconds{tenant=\"default\",source=\"app\"}", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_backup_age_seconds{tenant=\"default\",source=\"app\"}", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_backup_last_duration_seconds{tenant=\"default\",source=\"app\"}", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_backup_last_read_bytes{tenant=\"default\",source=\"app\"}", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_rpo_seconds{tenant=\"default\",source=\"app\"}", text, StringComparison.Ordinal);
        Assert.Matches("lifeboat_runs\\{tenant=\"default\",kind=\"[a-z]+\",status=\"succeeded\"\\} 1", text);
        Assert.Contains("# TYPE lifeboat_jobs gauge", text, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds_bucket", text, StringComparison.Ordinal);

        var promtool = Which("promtool");
        Peers.Require(promtool is not null, "promtool (Debian package prometheus)");
        var start = new ProcessStartInfo(promtool!, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync(Ct) + await process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"promtool check metrics failed:\n{output}");
    }

    [Fact]
    public async Task Target_reachability_and_replication_lag_are_scraped_and_follow_replication()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var offsite = cli.Dir.Combine("offsite");
        await cli.Cli.OkAsync("repo", "target", "add", "offsite", "file://" + offsite, "--manual");
        await cli.Cli.OkAsync("backup", "--source", "app");
        await cli.Cli.OkAsync("backup", "--source", "app");
        await using var server = await ServerFixture.StartAsync(cli);
        using var anonymous = server.Client(null);
        async Task<string> ScrapeAsync() => await anonymous.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);

        // Two backups made, none replicated (--manual): two behind, the lag is the older one's age.
        var text = await ScrapeAsync();
        Assert.Contains("lifeboat_target_up{tenant=\"default\",target=\"primary\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_target_up{tenant=\"default\",target=\"offsite\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_target_replication_behind_backups{tenant=\"default\",target=\"offsite\"} 2\n", text, StringComparison.Ordinal);
        Assert.Matches("lifeboat_target_replication_lag_seconds\\{tenant=\"default\",target=\"offsite\"\\} [0-9.e+-]+\n", text);
        Assert.DoesNotContain("lifeboat_target_replication_behind_backups{tenant=\"default\",target=\"primary\"}", text, StringComparison.Ordinal);

        await cli.Cli.OkAsync("replicate", "--to", "offsite");
        text = await ScrapeAsync();
        Assert.Contains("lifeboat_target_replication_behind_backups{tenant=\"default\",target=\"offsite\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_target_replication_lag_seconds{tenant=\"default\",target=\"offsite\"} 0\n", text, StringComparison.Ordinal);
        Assert.Matches("lifeboat_target_last_replication_timestamp_seconds\\{tenant=\"default\",target=\"offsite\",status=\"succeeded\"\\} [0-9.e+]+\n", text);

        // The target moved to a host that does not answer (an SFTP port nothing listens on): down, nothing else known.
        var config = cli.Dir.Combine("lifeboat.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(config, Ct))!;
        root["Targets"]!["offsite"]!["Url"] = $"sftp://nobody@127.0.0.1:{Lifeboat.Postgres.Tools.PostgresCluster.FreePort()}/repo";
        await File.WriteAllTextAsync(config, root.ToJsonString(), Ct);
        text = await ScrapeAsync();
        Assert.Contains("lifeboat_target_up{tenant=\"default\",target=\"offsite\"} 0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("lifeboat_target_replication_behind_backups{tenant=\"default\",target=\"offsite\"}", text, StringComparison.Ordinal);
        Assert.Contains("lifeboat_target_up{tenant=\"default\",target=\"primary\"} 1\n", text, StringComparison.Ordinal);
    }

    private static string? Which(string tool)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
