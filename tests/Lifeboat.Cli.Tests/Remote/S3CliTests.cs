using System.Security.Cryptography;

namespace Lifeboat.Cli.Tests.Remote;

/// <summary>The command line against a real S3 peer (s3rver).</summary>
public sealed class S3CliTests(S3rverFixture fixture) : IClassFixture<S3rverFixture>
{
    private readonly string _prefix = "s3-cli-tests-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    /// <summary>Credentials s3rver does not know (it checks the access key id; it does not verify SigV4 signatures).</summary>
    private static Dictionary<string, string?> WrongCredentials(out string secret)
    {
        secret = "wrong-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        return new Dictionary<string, string?> { ["AWS_ACCESS_KEY_ID"] = "AKIA" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)), ["AWS_SECRET_ACCESS_KEY"] = secret };
    }

    [Fact]
    public async Task The_command_line_reports_wrong_credentials_with_exit_code_2_without_the_secret()
    {
        var server = fixture.Require();
        using var dir = new TempDir();
        var cli = new CliRunner(dir.Path, WrongCredentials(out var secret));

        var result = await cli.RunAsync("repo", "init", "--repo", server.Url(_prefix), "--insecure-no-encryption");

        // repo init looks for an existing repository first (a HEAD request, whose answer carries no error code).
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(
            $"lifeboat: cannot use s3://lifeboat-tests/{_prefix}: cannot stat s3://lifeboat-tests/{_prefix}/config: http://127.0.0.1:{server.Port} answered 403 Forbidden (the credentials were refused, or they lack a permission)\n",
            result.Error,
            StringComparison.Ordinal);
        Assert.Contains("hint: check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the AWS profile) used for this target, and their permissions on the bucket\n", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, result.All, StringComparison.Ordinal);
    }
}
