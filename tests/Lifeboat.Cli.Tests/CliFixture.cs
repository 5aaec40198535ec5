namespace Lifeboat.Cli.Tests;

/// <summary>A working directory with a sample tree, a repository URL and a passphrase in the environment.</summary>
internal sealed class CliFixture : IDisposable
{
    public const string Passphrase = "correct-horse-battery-staple-7731";

    public CliFixture(bool withTree = true)
    {
        Dir = new TempDir("lifeboat-cli-");
        Source = Dir.Combine("source");
        if (withTree)
        {
            TestData.WriteTree(Source, 3);
        }

        RepoPath = Dir.Combine("repo");
        Cli = new CliRunner(Dir.Path, new Dictionary<string, string?> { ["LIFEBOAT_PASSPHRASE"] = Passphrase });
    }

    public TempDir Dir { get; }

    public string Source { get; }

    public string RepoPath { get; }

    public string RepoUrl => "file://" + RepoPath;

    public CliRunner Cli { get; }

    /// <summary>repo init + source add-files "app".</summary>
    public async Task InitAsync(params string[] extraInit)
    {
        await Cli.OkAsync(["repo", "init", "--repo", RepoUrl, .. extraInit]);
        await Cli.OkAsync("source", "add-files", "app", "--path", Source);
    }

    public void Dispose() => Dir.Dispose();
}
