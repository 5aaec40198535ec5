using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Lifeboat.Engine.Application;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>The REST API through HTTP only, on a real server: the contract of docs/api.md.</summary>
public sealed class ApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_OpenAPI_document_parses_and_lists_every_mapped_route_and_every_role_gets_401_or_403_exactly_as_the_permission_table_says()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var anonymous = server.Client(null);

        var json = await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct);
        var read = await OpenApiDocument.LoadAsync(new MemoryStream(Encoding.UTF8.GetBytes(json)), "json", cancellationToken: Ct);
        Assert.Empty(read.Diagnostic!.Errors);
        var document = read.Document!;
        Assert.StartsWith("3.1", JsonDocument.Parse(json).RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);

        var mapped = server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.Trim('/'))
            .Where(p => p.StartsWith("/api/v1", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(mapped);
        Assert.Equal(mapped.Order(StringComparer.Ordinal), document.Paths.Keys.Where(p => p.StartsWith("/api/v1", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        var checkedOperations = 0;
        foreach (var (path, item) in document.Paths.Where(p => p.Key.StartsWith("/api/v1", StringComparison.Ordinal)))
        {
            foreach (var (method, operation) in item.Operations!)
            {
                var permission = operation.Extensions is { } ext && ext.TryGetValue("x-lifeboat-permission", out var p) ? ((JsonNodeExtension)p).Node.GetValue<string>() : null;
                Assert.True(permission is not null, $"{method} {path} documents no permission");
                var url = path.Replace("{name}", "nope", StringComparison.Ordinal).Replace("{id}", "nope", StringComparison.Ordinal);
                Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(anonymous, method, url)).StatusCode);
                foreach (var role in Roles.All)
                {
                    using var client = server.Client(role);
                    var status = (await SendAsync(client, method, url)).StatusCode;
                    if (Permissions.Allows(role, permission!))
                    {
                        Assert.True(status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{role} was refused {method} {path} ({status})");
                    }
                    else
                    {
                        Assert.True(status == HttpStatusCode.Forbidden, $"{role} got {status} for {method} {path}, which needs {permission}");
                    }
                }

                checkedOperations++;
            }
        }

        Assert.True(checkedOperations >= 15, $"only {checkedOperations} operations");
        using var revokedClient = server.Client(Roles.Viewer);
        var list = JsonDocument.Parse((await cli.Cli.OkAsync("token", "list", "--json")).Out).RootElement.GetProperty("items");
        var viewer = list.EnumerateArray().Single(t => t.GetProperty("role").GetString() == Roles.Viewer);
        await cli.Cli.OkAsync("token", "revoke", viewer.GetProperty("id").GetString()!);
        Assert.Equal(HttpStatusCode.Unauthorized, (await revokedClient.GetAsync(new Uri("/api/v1/status", UriKind.Relative), Ct)).StatusCode);
    }

    [Fact]
    public async Task Backups_page_newest_first_with_a_cursor_and_errors_are_problem_details_with_the_correlation_id()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            File.WriteAllText(Path.Combine(cli.Source, $"n{i}.txt"), new string('n', 1000 * (i + 1)));
            var backup = await cli.Cli.OkAsync("backup", "--source", "app", "--json");
            ids.Add(JsonDocument.Parse(backup.Out).RootElement.GetProperty("id").GetString()!);
        }

        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/backups?source=app&limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)), UriKind.Relative), Ct)).RootElement;
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(b => b.GetProperty("id").GetString()!));
            cursor = page.TryGetProperty("next", out var next) ? next.GetString() : null;
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Reverse(ids), seen);

        var detail = JsonDocument.Parse(await viewer.GetStringAsync(new Uri($"/api/v1/backups/{ids[0]}", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("files", detail.GetProperty("kind").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/status?source=nope");
        request.Headers.Add("X-Correlation-Id", "test-correlation-1");
        var unknown = await viewer.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType!.MediaType);
        var problem = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("InvalidInput", problem.GetProperty("code").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains("'nope'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("test-correlation-1", problem.GetProperty("traceId").GetString());
        Assert.Equal("test-correlation-1", unknown.Headers.GetValues("X-Correlation-Id").Single());

        var badCursor = await viewer.GetAsync(new Uri("/api/v1/backups?cursor=garbage", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badCursor.StatusCode);
        var cursorProblem = JsonDocument.Parse(await badCursor.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Contains("`cursor`", cursorProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(cursorProblem.GetProperty("errors").TryGetProperty("cursor", out _));

        await cli.Cli.OkAsync("pin", ids[0], "--reason", "audit");
        using var admin = server.Client(Roles.Admin);
        var refused = await admin.DeleteAsync(new Uri($"/api/v1/backups/{ids[0]}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        var forgot = await admin.DeleteAsync(new Uri($"/api/v1/backups/{ids[1]}", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, forgot.StatusCode);
        Assert.Equal(2, (await cli.Cli.OkAsync("list", "--json")).Out.Split("\"kind\": \"files\"").Length - 1);
    }

    [Fact]
    public async Task An_operator_backs_up_and_restores_through_jobs_watches_progress_and_the_auditor_sees_who_did_it()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var operatorClient = server.Client(Roles.Operator);
        using var viewer = server.Client(Roles.Viewer);

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync(new Uri("/api/v1/backups", UriKind.Relative), new { source = "app" }, Ct)).StatusCode);
        using var start = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups") { Content = JsonContent.Create(new { source = "app" }) };
        start.Headers.Add("X-Correlation-Id", "backup-story-1");
        var accepted = await operatorClient.SendAsync(start, Ct);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var job = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync(Ct)).RootElement;
        var jobId = job.GetProperty("id").GetString()!;
        Assert.Equal($"/api/v1/jobs/{jobId}", accepted.Headers.Location!.AbsolutePath);
        Assert.Equal("backup", job.GetProperty("kind").GetString());

        // Server-Sent Events until the job ends; the last one is its final state.
        var states = new List<string>();
        JsonElement last = default;
        await using (var stream = await viewer.GetStreamAsync(new Uri($"/api/v1/jobs/{jobId}/events", UriKind.Relative), Ct))
        using (var reader = new StreamReader(stream))
        {
            while (await reader.ReadLineAsync(Ct) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    last = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
                    states.Add(last.GetProperty("state").GetString()!);
                }
            }
        }

        Assert.True(states[^1] == "succeeded", last.GetRawText());
        var backupId = last.GetProperty("result").GetProperty("id").GetString()!;
        Assert.True(last.GetProperty("progress").GetProperty("bytes").GetInt64() > 0);
        Assert.Equal("backup-story-1", last.GetProperty("correlationId").GetString());
        var listed = JsonDocument.Parse(await viewer.GetStringAsync(new Uri("/api/v1/backups?source=app", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        Assert.Equal(backupId, listed[0].GetProperty("id").GetString());

        var to = cli.Dir.Combine("restored");
        var restore = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/restores", UriKind.Relative), new { source = "app", backup = backupId, to }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, restore.StatusCode);
        var restoreJob = JsonDocument.Parse(await restore.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        var done = await ServerFixture.FinishedJobAsync(viewer, restoreJob);
        Assert.True(done.GetProperty("state").GetString() == "succeeded", done.GetRawText());
        Assert.Empty(Lifeboat.Engine.Demo.TreeComparer.Compare(cli.Source, to));

        // A restore into a directory that is not empty is refused: the job fails with the problem's code.
        var again = await operatorClient.PostAsJsonAsync(new Uri("/api/v1/restores", UriKind.Relative), new { source = "app", to }, Ct);
        var refused = await ServerFixture.FinishedJobAsync(viewer, JsonDocument.Parse(await again.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!);
        Assert.Equal("failed", refused.GetProperty("state").GetString());
        Assert.Equal("Refused", refused.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("`overwrite`", refused.GetProperty("error").GetProperty("hint").GetString(), StringComparison.Ordinal);

        var cancelFinished = JsonDocument.Parse(await (await operatorClient.DeleteAsync(new Uri($"/api/v1/jobs/{jobId}", UriKind.Relative), Ct)).Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("already-finished", cancelFinished.GetProperty("outcome").GetString());

        using var auditor = server.Client(Roles.Auditor);
        var audit = JsonDocument.Parse(await auditor.GetStringAsync(new Uri("/api/v1/audit", UriKind.Relative), Ct)).RootElement.GetProperty("items");
        var started = audit.EnumerateArray().Single(e => e.GetProperty("action").GetString() == "StartBackup");
        Assert.Equal("operator-token", started.GetProperty("actor").GetProperty("name").GetString());
        Assert.Equal("backup-story-1", started.GetProperty("correlationId").GetString());
        Assert.Equal(202, started.GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.GetAsync(new Uri("/api/v1/audit", UriKind.Relative), Ct)).StatusCode);
        Assert.DoesNotContain(CliFixture.Passphrase, audit.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(server.Tokens[Roles.Operator], audit.GetRawText(), StringComparison.Ordinal);
    }


    [Fact]
    public async Task Health_and_readiness_need_no_token_and_readiness_fails_when_the_repository_is_gone()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var anonymous = server.Client(null);
        Assert.Equal("up", JsonDocument.Parse(await anonymous.GetStringAsync(new Uri("/healthz", UriKind.Relative), Ct)).RootElement.GetProperty("status").GetString());
        var ready = await anonymous.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Directory.Move(cli.RepoPath, cli.RepoPath + ".moved");
        var notReady = await anonymous.GetAsync(new Uri("/readyz", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        var report = JsonDocument.Parse(await notReady.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.False(report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "repository").GetProperty("ok").GetBoolean());
        var all = await anonymous.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative), Ct) + await notReady.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain(CliFixture.Passphrase, all, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/api/docs", UriKind.Relative), Ct)).StatusCode);
    }

    /// <summary>The answer's status; the body is not read (a Server-Sent Events stream does not end).</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string url)
    {
        var request = new HttpRequestMessage(method, url);
        if (method == HttpMethod.Post || method == HttpMethod.Put)
        {
            request.Content = JsonContent.Create(new Dictionary<string, string>());
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        response.Dispose();
        return response;
    }
}
