using System.Net.Http.Headers;
using System.Text.Json;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Lifeboat.Cli.Tests.Server;

/// <summary>
/// A real Kestrel server on a free loopback port over a CLI-made workspace (repository, files source "app"), with
/// one API token per role made by `lifeboat token create`, as an operator would.
/// </summary>
internal sealed class ServerFixture : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CliFixture? _cli;

    private ServerFixture(CliFixture? cli, WebApplication app, Uri address, Dictionary<string, string> tokens)
    {
        _cli = cli;
        _app = app;
        Address = address;
        Tokens = tokens;
    }

    public CliFixture Cli => _cli ?? throw new InvalidOperationException("this server runs over another fixture's workspace");

    public Uri Address { get; }

    /// <summary>Role → a valid token of that role.</summary>
    public IReadOnlyDictionary<string, string> Tokens { get; }

    public IServiceProvider Services => _app.Services;

    public static Task<ServerFixture> StartAsync(CliFixture cli, string scheme = "http", Microsoft.Extensions.Logging.ILoggerProvider? logs = null) => StartAsync(cli, cli.Dir, cli.Cli, scheme, logs);

    /// <summary>A server over the workspace of <paramref name="dir"/>'s lifeboat.json (a cluster fixture's, for example).</summary>
    public static Task<ServerFixture> StartAsync(TempDir dir, CliRunner runner) => StartAsync(null, dir, runner, "http", null);

    private static async Task<ServerFixture> StartAsync(CliFixture? cli, TempDir dir, CliRunner runner, string scheme, Microsoft.Extensions.Logging.ILoggerProvider? logs)
    {
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        var configPath = dir.Combine("lifeboat.json");
        foreach (var role in Roles.All)
        {
            var created = await runner.OkAsync("--config", configPath, "token", "create", "--name", role + "-token", "--role", role, "--json");
            tokens[role] = JsonDocument.Parse(created.Out).RootElement.GetProperty("token").GetString()!;
        }

        var config = ConfigFile.Resolve(configPath, runner.Environment, dir.Path);
        var port = Lifeboat.Postgres.Tools.PostgresCluster.FreePort();
        var app = LifeboatServer.Build(() => new Workspace(config, runner.Environment, dir.Path), TimeProvider.System, $"{scheme}://127.0.0.1:{port}", logs, scheduler: false);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new ServerFixture(cli, app, new Uri($"{scheme}://127.0.0.1:{port}"), tokens);
    }

    /// <summary>A client with the token of <paramref name="role"/>, or none (over HTTPS: trusting <paramref name="certificate"/> only).</summary>
    public HttpClient Client(string? role, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var handler = new HttpClientHandler();
        if (certificate is not null)
        {
            handler.ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint;
        }

        var http = new HttpClient(handler) { BaseAddress = Address };
        if (role is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens[role]);
        }

        return http;
    }

    /// <summary>The job's final state, read from its Server-Sent Events stream (which ends when the job does).</summary>
    public static async Task<JsonElement> FinishedJobAsync(HttpClient client, string jobId)
    {
        JsonElement last = default;
        await using var stream = await client.GetStreamAsync(new Uri($"/api/v1/jobs/{jobId}/events", UriKind.Relative), TestContext.Current.CancellationToken);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                last = JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
            }
        }

        return last.ValueKind == JsonValueKind.Undefined ? throw new InvalidOperationException($"job {jobId}: the event stream ended without an event") : last;
    }

    /// <summary>
    /// The deliveries at <paramref name="path"/> (/api/v1/deliveries or a webhook's, with a query) once <paramref name="done"/> holds
    /// for them, or as they are at the deadline. A receiver has the request before the server records the attempt's
    /// answer, so a test that saw a request arrive waits here for the catalog to say so.
    /// </summary>
    public static async Task<List<JsonElement>> DeliveriesAsync(HttpClient client, string path, Func<List<JsonElement>, bool> done)
    {
        var ct = TestContext.Current.CancellationToken;
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        while (true)
        {
            var items = JsonDocument.Parse(await client.GetStringAsync(new Uri(path, UriKind.Relative), ct)).RootElement
                .GetProperty("items").EnumerateArray().Select(d => d.Clone()).ToList();
            if (done(items) || TimeProvider.System.GetUtcNow() >= deadline)
            {
                return items;
            }

            await Task.Delay(50, ct);
        }
    }

    /// <summary>
    /// Waits until the server's health evaluation has run <paramref name="count"/> whole passes that began after this
    /// call (the pass running now, if any, does not count): what it would alert on, it has written by then.
    /// </summary>
    public async Task HealthPassesAsync(int count)
    {
        var monitor = Services.GetRequiredService<Lifeboat.Engine.UseCases.Health.HealthMonitor>();
        for (var pass = 0; pass <= count; pass++)
        {
            await monitor.NextPassAsync().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
