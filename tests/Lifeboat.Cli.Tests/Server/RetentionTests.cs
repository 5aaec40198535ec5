using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>Retention through HTTP: every source's policy, setting one, the expire preview.</summary>
public sealed class RetentionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task An_admin_sets_a_policy_that_lands_in_the_config_the_preview_explains_what_expire_would_delete_and_deletes_nothing()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        for (var i = 0; i < 3; i++)
        {
            await cli.Cli.OkAsync("backup", "--source", "app");
        }

        await using var server = await ServerFixture.StartAsync(cli);
        using var admin = server.Client(Roles.Admin);
        using var op = server.Client(Roles.Operator);
        using var viewer = server.Client(Roles.Viewer);

        var before = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/retention", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.True(before.EnumerateArray().Single(s => s.GetProperty("source").GetString() == "app").GetProperty("keepsEverything").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await op.PutAsJsonAsync("/api/v1/retention/app", new { keepLast = 1 }, Ct)).StatusCode);
        var negative = await admin.PutAsJsonAsync("/api/v1/retention/app", new { keepLast = -1 }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        Assert.Contains("`keepLast`", await negative.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        var set = await admin.PutAsJsonAsync("/api/v1/retention/app", new { spec = "last=1" }, Ct);
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var result = JsonDocument.Parse(await set.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.True(result.GetProperty("shortened").GetBoolean()); // from keep-everything to one backup
        Assert.Equal(1, result.GetProperty("retention").GetProperty("settings").GetProperty("keepLast").GetInt32());
        var config = JsonDocument.Parse(await File.ReadAllTextAsync(cli.Dir.Combine("lifeboat.json"), Ct)).RootElement;
        Assert.Equal(1, config.GetProperty("Sources").GetProperty("app").GetProperty("Retention").GetProperty("KeepLast").GetInt32());

        var preview = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/retention/app/preview", UriKind.Relative), Ct)).RootElement;
        Assert.True(preview.GetProperty("dryRun").GetBoolean());
        var decisions = preview.GetProperty("sources")[0].GetProperty("decisions").EnumerateArray().ToList();
        Assert.Equal(3, decisions.Count);
        Assert.Equal(2, decisions.Count(d => !d.GetProperty("keep").GetBoolean()));
        var backups = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/backups?source=app", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal(3, backups.GetArrayLength()); // the preview deleted nothing

        var longer = JsonDocument.Parse(await (await admin.PutAsJsonAsync("/api/v1/retention/app", new { keepLast = 5, keepDaily = 7 }, Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.False(longer.GetProperty("shortened").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PutAsJsonAsync("/api/v1/retention/nope", new { keepLast = 1 }, Ct)).StatusCode);
    }
}
