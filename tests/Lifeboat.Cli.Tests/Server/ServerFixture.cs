using System.Net.Http.Headers;
using System.Text.Json;
using Lifeboat.Engine.Application;
using Lifeboat.Engine.Configuration;
using Lifeboat.Server;
using Microsoft.AspNetCore.Builder;

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

    public static Task<ServerFixture> StartAsync(CliFixture cli) => StartAsync(cli, cli.Dir, cli.Cli);

    /// <summary>A server over the workspace of <paramref name="dir"/>'s lifeboat.json (a cluster fixture's, for example).</summary>
    public static Task<ServerFixture> StartAsync(TempDir dir, CliRunner runner) => StartAsync(null, dir, runner);

    private static async Task<ServerFixture> StartAsync(CliFixture? cli, TempDir dir, CliRunner runner)
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
        var app = LifeboatServer.Build(() => new Workspace(config, runner.Environment, dir.Path), TimeProvider.System, $"http://127.0.0.1:{port}", null, scheduler: false);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return new ServerFixture(cli, app, new Uri($"http://127.0.0.1:{port}"), tokens);
    }

    /// <summary>A client with the token of <paramref name="role"/>, or none.</summary>
    public HttpClient Client(string? role)
    {
        var http = new HttpClient { BaseAddress = Address };
        if (role is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens[role]);
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
