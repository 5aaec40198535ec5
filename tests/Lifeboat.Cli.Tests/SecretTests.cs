using System.Text;

namespace Lifeboat.Cli.Tests;

/// <summary>A known passphrase appears in no output, no error, no log line and no repository object.</summary>
public sealed class SecretTests
{
    [Fact]
    public async Task The_passphrase_never_appears_in_output_errors_logs_or_the_repository()
    {
        using var f = new CliFixture();
        var outputs = new List<CliResult>
        {
            await f.Cli.RunAsync("--verbose", "repo", "init", "--repo", f.RepoUrl),
            await f.Cli.RunAsync("--verbose", "source", "add-files", "app", "--path", f.Source),
            await f.Cli.RunAsync("--verbose", "backup", "--source", "app", "--json"),
            await f.Cli.RunAsync("--verbose", "list"),
            await f.Cli.RunAsync("--verbose", "verify", "--read-data", "--json"),
            await f.Cli.RunAsync("--verbose", "repo", "key", "list"),
        };
        f.Cli.Environment["LIFEBOAT_PASSPHRASE"] = CliFixture.Passphrase + "-wrong";
        outputs.Add(await f.Cli.RunAsync("--verbose", "list"));
        outputs.Add(await f.Cli.RunAsync("--verbose", "list", "--json"));
        Assert.All(outputs.Take(6), o => Assert.Equal(0, o.ExitCode));

        foreach (var o in outputs)
        {
            Assert.DoesNotContain("correct-horse", o.All, StringComparison.Ordinal);
        }

        var needle = Encoding.UTF8.GetBytes("correct-horse");
        foreach (var file in Directory.EnumerateFiles(f.Dir.Path, "*", SearchOption.AllDirectories).Where(p => !p.StartsWith(f.Source, StringComparison.Ordinal)))
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().IndexOf(needle) < 0, $"{file} contains the passphrase");
        }
    }
}
