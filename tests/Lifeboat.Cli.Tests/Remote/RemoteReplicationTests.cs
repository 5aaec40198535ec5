using System.Security.Cryptography;
using Lifeboat.Engine.Demo;

namespace Lifeboat.Cli.Tests.Remote;

/// <summary>
/// A local repository replicated to real remote peers (s3rver, sshd): copies verified, restores from each, and an S3
/// outage during a backup reported without failing it, then caught up by the next replicate.
/// </summary>
public sealed class RemoteReplicationTests(S3rverFixture s3, SshdFixture sftp) : IClassFixture<S3rverFixture>, IClassFixture<SshdFixture>
{
    private const string Passphrase = "correct-horse-battery-staple-5120";

    [Fact]
    public async Task A_backup_replicates_to_s3_and_sftp_restores_from_each_and_an_s3_outage_is_reported_then_caught_up()
    {
        var s3Server = s3.Require();
        var sshd = sftp.Require();
        var prefix = "replica-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        using var dir = new TempDir("lifeboat-replication-");
        var source = dir.Combine("source");
        TestData.WriteTree(source, seed: 11);
        var cli = new CliRunner(dir.Path, new Dictionary<string, string?>(s3Server.Environment) { ["LIFEBOAT_PASSPHRASE"] = Passphrase });
        await cli.OkAsync("repo", "init", "--repo", "file://" + dir.Combine("repo"));
        await cli.OkAsync("source", "add-files", "app", "--path", source);
        await cli.OkAsync("repo", "target", "add", "s3", s3Server.Url(prefix), "--retention", "90d");
        await cli.OkAsync("repo", "target", "add", "sftp", sshd.Url(prefix));

        var backup = await cli.OkAsync("backup", "--source", "app");
        Assert.Matches(@"target s3: copied 1 backup\(s\), [1-9]\d* pack\(s\)", backup.Out);
        Assert.Matches(@"target sftp: copied 1 backup\(s\), [1-9]\d* pack\(s\)", backup.Out);
        await cli.OkAsync("restore", "--source", "app", "--to", "from-s3", "--from", "s3");
        await cli.OkAsync("restore", "--source", "app", "--to", "from-sftp", "--from", "sftp");
        Assert.Empty(TreeComparer.Compare(source, dir.Combine("from-s3")));
        Assert.Empty(TreeComparer.Compare(source, dir.Combine("from-sftp")));
        var probe = await cli.OkAsync("target", "verify", "s3");
        Assert.Contains("target verified", probe.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(S3rverServer.SecretAccessKey + "@", probe.All, StringComparison.Ordinal);

        await s3Server.StopAsync();
        File.WriteAllText(Path.Combine(source, "new.txt"), "written while S3 was down");
        var duringOutage = await cli.RunAsync("backup", "--source", "app");
        Assert.Equal(0, duringOutage.ExitCode);
        Assert.Contains("is committed on the primary target, but not replicated to target s3", duringOutage.Error, StringComparison.Ordinal);
        Assert.Matches(@"target sftp: copied 1 backup\(s\)", duringOutage.Out);

        await s3Server.RestartAsync(TestContext.Current.CancellationToken);
        var caughtUp = await cli.OkAsync("replicate");
        Assert.Matches(@"target s3: copied 1 backup\(s\)", caughtUp.Out);
        Assert.Contains("target sftp: up to date", caughtUp.Out, StringComparison.Ordinal);
        await cli.OkAsync("restore", "--source", "app", "--to", "from-s3-later", "--from", "s3");
        Assert.Empty(TreeComparer.Compare(source, dir.Combine("from-s3-later")));
    }
}
