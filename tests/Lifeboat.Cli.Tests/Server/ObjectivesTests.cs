using System.Net;
using System.Text.Json;
using Lifeboat.Catalog;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>Objectives and drills through HTTP, over drills recorded in the catalog.</summary>
public sealed class ObjectivesTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DrillRecord Drill(string id, DateTimeOffset at, long rtoMs, bool violated) => new()
    {
        Id = id, Source = "app", Kind = "files", Started = at, Finished = at.AddSeconds(5), Result = DrillResults.Passed, Restorable = true,
        RtoMs = rtoMs, RtoObjectiveMs = 10_000, RtoViolated = violated, Summary = "drill " + id,
        ReportJson = "{\"format\":\"lifeboat-drill-report\",\"id\":\"" + id + "\"}",
    };

    [Fact]
    public async Task Objectives_show_the_current_RPO_and_the_latest_RTO_and_drills_page_newest_first()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await cli.Cli.OkAsync("backup", "--source", "app");
        var catalog = await LifeboatCatalog.OpenSqliteAsync(cli.Dir.Combine("lifeboat.db"), TimeProvider.System, Ct);
        var now = TimeProvider.System.GetUtcNow();
        await catalog.RecordDrillAsync(Drill("d1", now.AddHours(-3), 20_000, true), Ct);
        await catalog.RecordDrillAsync(Drill("d2", now.AddHours(-2), 4_000, false), Ct);
        await catalog.RecordDrillAsync(Drill("d3", now.AddHours(-1), 30_000, true), Ct);
        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);

        var report = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/objectives", UriKind.Relative), Ct)).RootElement;
        var app = report.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("source").GetString() == "app");
        Assert.Equal(30.0, app.GetProperty("rtoSeconds").GetDouble());
        Assert.Equal("d3", app.GetProperty("rtoDrill").GetString());
        Assert.True(app.GetProperty("rtoViolated").GetBoolean());
        Assert.True(app.GetProperty("violated").GetBoolean());
        Assert.Equal(["d3", "d1"], app.GetProperty("recentViolations").EnumerateArray().Select(v => v.GetProperty("drill").GetString()!).ToArray());
        var rpo = app.GetProperty("rpoSeconds").GetDouble();
        Assert.InRange(rpo, 0, 600); // the backup was taken moments ago
        Assert.Equal(JsonValueKind.Null, app.GetProperty("rpoObjectiveSeconds").ValueKind); // a files source without Rpo has no objective
        Assert.False(app.GetProperty("rpoViolated").GetBoolean());

        var first = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/drills?limit=2", UriKind.Relative), Ct)).RootElement;
        Assert.Equal(["d3", "d2"], first.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetString()!).ToArray());
        var second = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/drills?limit=2&cursor=" + first.GetProperty("next").GetString(), UriKind.Relative), Ct)).RootElement;
        Assert.Equal(["d1"], second.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("id").GetString()!).ToArray());
        Assert.False(second.TryGetProperty("next", out var end) && end.ValueKind != JsonValueKind.Null);
        Assert.Empty(JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/drills?source=other", UriKind.Relative), Ct)).RootElement.GetProperty("items").EnumerateArray());

        var doc = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/drills/d2", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("d2", doc.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync(new Uri("/api/v1/drills/nope", UriKind.Relative), Ct)).StatusCode);
    }
}
