using System.Net;
using System.Text.Json;
using Lifeboat.Engine.Application;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>GET /api/v1/runbook: the same runbook as `lifeboat runbook`, as Markdown, HTML or JSON, for any role that reads.</summary>
public sealed class RunbookApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_serves_the_runbook_as_markdown_html_or_json_and_names_a_bad_field()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await cli.Cli.OkAsync("backup", "--source", "app");
        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);

        var md = await viewer.GetAsync(new Uri("/api/v1/runbook", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, md.StatusCode);
        Assert.Equal("text/markdown", md.Content.Headers.ContentType!.MediaType);
        var text = await md.Content.ReadAsStringAsync(Ct);
        Assert.StartsWith("# Recovery runbook: ", text, StringComparison.Ordinal);
        Assert.Contains("restore --source app --to /srv/app-restored", text, StringComparison.Ordinal);
        Assert.Contains("a passphrase in $LIFEBOAT_PASSPHRASE", text, StringComparison.Ordinal);

        var html = await viewer.GetAsync(new Uri("/api/v1/runbook?source=app&format=html", UriKind.Relative), Ct);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<h2 id=\"files-lost\">", await html.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        var json = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/runbook?format=json", UriKind.Relative), Ct)).RootElement;
        Assert.Equal(8, json.GetProperty("scenarios").GetArrayLength());
        Assert.Equal("app", json.GetProperty("sources")[0].GetProperty("name").GetString());
        Assert.StartsWith("# Recovery runbook", json.GetProperty("content").GetString(), StringComparison.Ordinal);

        var bad = await viewer.GetAsync(new Uri("/api/v1/runbook?format=pdf", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("`format` 'pdf' is not a runbook format", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }
}
