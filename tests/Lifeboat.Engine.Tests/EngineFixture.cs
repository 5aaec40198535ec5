using System.Text.Json.Nodes;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Application;
using Microsoft.Extensions.DependencyInjection;
using Lifeboat.Repository.Crypto;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Tests;

/// <summary>A configuration file with an encrypted local repository (key file) and a files source over a sample tree.</summary>
internal sealed class EngineFixture : IDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    public EngineFixture(int seed = 1, bool createTree = true)
    {
        Dir = new TempDir("lifeboat-engine-");
        Source = Dir.Combine("source");
        if (createTree)
        {
            TestData.WriteTree(Source, seed);
        }
        else
        {
            Directory.CreateDirectory(Source);
        }

        KeyFile = Dir.Combine("repo.key");
        RepoUrl = "file://" + Dir.Combine("repo");
        var key = KeyMaterial.CreateKeyFile(KeyFile);
        Repo.InitAsync(TargetFactory.Open(RepoUrl), new Lifeboat.Repository.InitOptions { Key = key }, TimeProvider.System, null, CancellationToken.None).GetAwaiter().GetResult().DisposeAsync().AsTask().GetAwaiter().GetResult();
        Config = ConfigFile.Resolve(Dir.Combine("lifeboat.json"), new Dictionary<string, string?>(), Dir.Path);
        Config.Edit(root =>
        {
            ConfigFile.Section(root, "Repository")["Url"] = RepoUrl;
            ConfigFile.Section(root, "Repository")["KeyFile"] = KeyFile;
            ConfigFile.Section(root, "Sources")["app"] = new JsonObject { ["Kind"] = "files", ["Path"] = Source };
        });
    }

    public TempDir Dir { get; }

    public string Source { get; }

    public string KeyFile { get; }

    public string RepoUrl { get; }

    public ConfigFile Config { get; }

    /// <summary>
    /// A use case (or another service) of a new call on this fixture's workspace, as the CLI would make it: its own
    /// service provider (kept until the fixture is disposed), clock, target decorator and environment.
    /// </summary>
    public T Use<T>(Func<ITarget, ITarget>? decorator = null, IReadOnlyDictionary<string, string?>? environment = null, TimeProvider? time = null)
        where T : notnull
    {
        var scope = Services(decorator, time).CreateScope();
        scope.ServiceProvider.GetRequiredService<CallContext>().Workspace = Workspace(environment);
        return scope.ServiceProvider.GetRequiredService<T>();
    }

    /// <summary>The application layer with this fixture's clock and a fast retry policy.</summary>
    public ServiceProvider Services(Func<ITarget, ITarget>? decorator = null, TimeProvider? time = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton(time ?? TimeProvider.System);
        services.AddSingleton(new TargetSettings
        {
            Decorator = decorator,
            Retry = new RetryOptions { MaxAttempts = 4, FirstDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
        });
        services.AddLifeboatEngine();
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }

    public Workspace Workspace(IReadOnlyDictionary<string, string?>? environment = null) => new(Config, environment ?? new Dictionary<string, string?>(), Dir.Path);

    public void Dispose()
    {
        foreach (var provider in _providers)
        {
            provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        Dir.Dispose();
    }
}
