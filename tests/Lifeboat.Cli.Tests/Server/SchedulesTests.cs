using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>Schedules through HTTP: create, validation as the config loader does it, next and missed runs, replace, remove.</summary>
public sealed class SchedulesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_operator_adds_a_schedule_that_lands_in_the_config_file_a_bad_cron_is_400_naming_cron_and_missed_runs_are_the_owed_occurrences()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var op = server.Client(Roles.Operator);
        using var viewer = server.Client(Roles.Viewer);

        var bad = await op.PostAsJsonAsync("/api/v1/schedules", new { name = "nightly", kind = "files", source = "app", cron = "61 2 * * *" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var problem = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Contains("`cron`", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("errors").TryGetProperty("cron", out _));
        var unknownSource = await op.PostAsJsonAsync("/api/v1/schedules", new { name = "nightly", kind = "files", source = "nope", cron = "0 2 * * *" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknownSource.StatusCode);
        Assert.Contains("`source`", await unknownSource.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/schedules", new { name = "x", kind = "verify", cron = "0 * * * *" }, Ct)).StatusCode);

        var created = await op.PostAsJsonAsync("/api/v1/schedules", new { name = "hourly", kind = "files", source = "app", cron = "0 * * * *", maxAttempts = 2 }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/schedules/hourly", created.Headers.Location!.ToString());
        var config = JsonDocument.Parse(await File.ReadAllTextAsync(cli.Dir.Combine("lifeboat.json"), Ct)).RootElement.GetProperty("Schedules").GetProperty("hourly");
        Assert.Equal("0 * * * *", config.GetProperty("Cron").GetString());
        Assert.Equal(2, config.GetProperty("MaxAttempts").GetInt32());
        Assert.False(config.TryGetProperty("Jitter", out _)); // defaults are not written
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await op.PostAsJsonAsync("/api/v1/schedules", new { name = "hourly", kind = "verify", cron = "0 * * * *" }, Ct)).StatusCode);

        var detail = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/schedules/hourly?next=3", UriKind.Relative), Ct)).RootElement;
        var next = detail.GetProperty("nextRuns").EnumerateArray().Select(e => e.GetDateTimeOffset()).ToList();
        Assert.Equal(3, next.Count);
        Assert.All(next, n => Assert.Equal(0, n.Minute));
        Assert.Equal(TimeSpan.FromHours(1), next[1] - next[0]);
        Assert.True(detail.GetProperty("missed").GetProperty("tracked").GetBoolean());
        Assert.Equal(0, detail.GetProperty("missed").GetProperty("count").GetInt32());

        // The scheduler owed the run of three hours ago and never started it: every hour since is missed.
        var clock = TimeProvider.System.GetUtcNow();
        var owed = new DateTimeOffset(clock.Year, clock.Month, clock.Day, clock.Hour, 0, 0, TimeSpan.Zero).AddHours(-3);
        var catalog = await LifeboatCatalog.OpenSqliteAsync(cli.Dir.Combine("lifeboat.db"), TimeProvider.System, Ct);
        await catalog.SaveScheduleStateAsync(new ScheduleState("hourly", null, null, owed, 0), Ct);
        var expected = Enumerable.Range(0, 5).Select(h => owed.AddHours(h)).Where(t => t <= TimeProvider.System.GetUtcNow().AddMinutes(-1)).ToList();
        var missed = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/schedules/hourly", UriKind.Relative), Ct)).RootElement.GetProperty("missed");
        Assert.Equal(expected.Count, missed.GetProperty("count").GetInt32());
        Assert.Equal(expected, missed.GetProperty("occurrences").EnumerateArray().Select(e => e.GetDateTimeOffset()).ToList());
        Assert.Equal(owed, missed.GetProperty("since").GetDateTimeOffset());

        // Changing the expression starts tracking afresh: the old expression's owed runs are not missed by the new one.
        var put = await op.PutAsJsonAsync("/api/v1/schedules/hourly", new { kind = "files", source = "app", cron = "30 3 * * *", timeZone = "Europe/Berlin" }, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var replaced = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/schedules/hourly", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("Europe/Berlin", replaced.GetProperty("schedule").GetProperty("timeZone").GetString());
        Assert.Equal(0, replaced.GetProperty("missed").GetProperty("count").GetInt32());
        Assert.Equal(3, replaced.GetProperty("maxAttempts").GetInt32()); // PUT replaces every setting
        Assert.Equal(HttpStatusCode.BadRequest, (await op.PutAsJsonAsync("/api/v1/schedules/hourly", new { kind = "files", source = "app", cron = "0 3 * * *", timeZone = "Mars/Olympus" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PutAsJsonAsync("/api/v1/schedules/nope", new { kind = "verify", cron = "0 3 * * *" }, Ct)).StatusCode);

        var list = JsonDocument.Parse((await cli.Cli.OkAsync("schedule", "list", "--json")).Out).RootElement;
        Assert.Contains("hourly", list.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await op.DeleteAsync(new Uri("/api/v1/schedules/hourly", UriKind.Relative), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync(new Uri("/api/v1/schedules/hourly", UriKind.Relative), Ct)).StatusCode);
        Assert.False(JsonDocument.Parse(await File.ReadAllTextAsync(cli.Dir.Combine("lifeboat.json"), Ct)).RootElement.TryGetProperty("Schedules", out _));
    }
}
