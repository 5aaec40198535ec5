using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lifeboat.Cli.Output;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.Logging;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>The event log over HTTP: filtered pages, the live stream, and the correlation id in the server's log lines.</summary>
public sealed class EventsApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_live_stream_shows_a_backup_run_by_another_process_and_a_reconnect_gets_what_it_missed()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        await using var server = await ServerFixture.StartAsync(cli);
        using var viewer = server.Client(Roles.Viewer);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream?type=backup.*");
        using var response = await viewer.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
        using var reader = new StreamReader(stream);

        // The CLI is another writer of the same catalog: the stream finds its events by following the catalog.
        var backup = Task.Run(() => cli.Cli.OkAsync("backup", "--source", "app"), Ct);
        var received = new List<(string Event, string Id, JsonElement Data)>();
        string? name = null, id = null, data = null;
        while (received.Count < 2 && await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("id: ", StringComparison.Ordinal))
            {
                id = line["id: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
            else if (line.Length == 0 && data is not null)
            {
                // A blank line ends an event (its fields come in any order).
                received.Add((name!, id!, JsonDocument.Parse(data).RootElement.Clone()));
                (name, id, data) = (null, null, null);
            }
        }

        await backup;
        Assert.Equal(["backup.started", "backup.completed"], received.Select(r => r.Event));
        Assert.All(received, r => Assert.Equal(r.Id, r.Data.GetProperty("id").GetString()));
        Assert.Equal(received[0].Data.GetProperty("correlationId").GetString(), received[1].Data.GetProperty("correlationId").GetString());

        // Reconnecting after the first: the second comes again, nothing before it.
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events/stream?type=backup.*");
        again.Headers.Add("Last-Event-ID", received[0].Id);
        using var resumed = await viewer.SendAsync(again, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var resumedReader = new StreamReader(await resumed.Content.ReadAsStreamAsync(timeout.Token));
        string? first = null;
        while (first is null && await resumedReader.ReadLineAsync(timeout.Token) is { } line)
        {
            first = line.StartsWith("id: ", StringComparison.Ordinal) ? line["id: ".Length..] : null;
        }

        Assert.Equal(received[1].Id, first);
        Assert.Equal(HttpStatusCode.BadRequest, (await viewer.GetAsync(new Uri("/api/v1/events/stream?severity=loud", UriKind.Relative), timeout.Token)).StatusCode);
    }

    [Fact]
    public async Task A_job_started_with_a_correlation_id_has_it_in_its_events_and_in_every_server_log_line_of_it()
    {
        using var cli = new CliFixture();
        await cli.InitAsync();
        var log = new StringWriter();
        using var logs = new TextWriterLoggerProvider(TextWriter.Synchronized(log), LogLevel.Debug, scopes: true);
        await using var server = await ServerFixture.StartAsync(cli, logs: logs);
        using var operatorClient = server.Client(Roles.Operator);
        using var start = new HttpRequestMessage(HttpMethod.Post, "/api/v1/backups") { Content = JsonContent.Create(new { source = "app" }) };
        start.Headers.Add("X-Correlation-Id", "events-story-7");
        var job = JsonDocument.Parse(await (await operatorClient.SendAsync(start, Ct)).Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetString()!;
        Assert.Equal("succeeded", (await ServerFixture.FinishedJobAsync(operatorClient, job)).GetProperty("state").GetString());

        var page = JsonDocument.Parse(await operatorClient.GetStringAsync(new Uri("/api/v1/events?correlation=events-story-7", UriKind.Relative), Ct)).RootElement;
        Assert.Equal(["backup.completed", "backup.started"], page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.True(!page.TryGetProperty("next", out var next) || next.ValueKind == JsonValueKind.Null);
        var filtered = JsonDocument.Parse(await operatorClient.GetStringAsync(new Uri("/api/v1/events?type=backup.completed&source=app&severity=info&since=1h&limit=1", UriKind.Relative), Ct)).RootElement;
        Assert.Equal("events-story-7", filtered.GetProperty("items")[0].GetProperty("correlationId").GetString());
        var bad = await operatorClient.GetAsync(new Uri("/api/v1/events?type=NOT%20A%20TYPE", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("`type`", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);

        // The job's own log lines (queued, started, finished, the event it published) carry the request's id.
        // (The client's requests that name the job in their URL are other calls, with ids of their own.)
        var lines = log.ToString().Split('\n').Where(l => (l.Contains(job, StringComparison.Ordinal) && !l.Contains("/api/v1/jobs/", StringComparison.Ordinal)) || l.Contains("Event backup.", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count >= 3, log.ToString());
        Assert.All(lines, l => Assert.EndsWith("[correlation=events-story-7]", l.TrimEnd(), StringComparison.Ordinal));
    }
}
