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

    private static string? Which(string tool)
        => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
}
