using System.Text.Json.Nodes;
using Lifeboat.Engine.Configuration;
using Lifeboat.Engine.Operations;
using Lifeboat.Repository.Crypto;
using Lifeboat.Targets;
using Repo = Lifeboat.Repository.Repository;

namespace Lifeboat.Engine.Tests;

/// <summary>A configuration file with an encrypted local repository (key file) and a files source over a sample tree.</summary>
internal sealed class EngineFixture : IDisposable
{
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

    public EngineContext Context(Func<ITarget, ITarget>? decorator = null, IReadOnlyDictionary<string, string?>? environment = null, TimeProvider? time = null) => new()
    {
        Time = time ?? TimeProvider.System,
        ConfigFile = Config,
        Environment = environment ?? new Dictionary<string, string?>(),
        WorkingDirectory = Dir.Path,
        TargetDecorator = decorator,
        Retry = new RetryOptions { MaxAttempts = 4, FirstDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
    };

    public void Dispose() => Dir.Dispose();
}
