using System.Security.Cryptography;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests.Remote;

/// <summary>
/// The whole command line against a repository on each remote target: init, backup, restore identical, verify reading
/// every pack back. Proves the targets where it counts, with the engine's real write and read orders.
/// </summary>
public sealed class RemoteRepositoryTests(S3rverFixture s3, AzuriteFixture azure, SshdFixture sftp)
    : IClassFixture<S3rverFixture>, IClassFixture<AzuriteFixture>, IClassFixture<SshdFixture>
{
    private const string Passphrase = "correct-horse-battery-staple-4410";

    [Theory]
    [InlineData("s3")]
    [InlineData("azure")]
    [InlineData("sftp")]
    public async Task A_files_backup_to_a_remote_repository_restores_identical_and_verifies(string kind)
    {
        var prefix = "repo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var (url, environment) = kind switch
        {
            "s3" => (s3.Require().Url(prefix), s3.Require().Environment),
            "azure" => (azure.Require().Url(prefix), azure.Require().Environment),
            _ => (sftp.Require().Url(prefix), new Dictionary<string, string?>()),
        };
        using var dir = new TempDir("lifeboat-remote-repo-");
        var source = dir.Combine("source");
        TestData.WriteTree(source, seed: 7);
        var cli = new CliRunner(dir.Path, new Dictionary<string, string?>(environment) { ["LIFEBOAT_PASSPHRASE"] = Passphrase });

        await cli.OkAsync("repo", "init", "--repo", url);
        await cli.OkAsync("source", "add-files", "app", "--path", source);
        await cli.OkAsync("backup", "--source", "app");
        await cli.OkAsync("restore", "--source", "app", "--to", "restored");
        var verify = await cli.OkAsync("verify", "--read-data");

        Assert.Empty(TreeComparer.Compare(source, dir.Combine("restored")));
        Assert.Contains("no damage found", verify.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(Passphrase, verify.All, StringComparison.Ordinal);
    }
}
