namespace Lifeboat.Testing;

/// <summary>
/// Real peers (PostgreSQL, sshd, s3rver, Azurite, chromium) are started by the tests. A missing peer skips the test on a
/// developer machine and fails it when the CI variable is set (STYLE.md rule 15).
/// </summary>
public static class Peers
{
    public static bool OnCi => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    public static void Require(bool available, string what)
    {
        if (available)
        {
            return;
        }

        if (OnCi)
        {
            Assert.Fail($"{what} is required on CI but is not available");
        }

        Assert.Skip($"{what} is not available on this machine");
    }

    public static bool IsRoot => Environment.UserName == "root";
}
