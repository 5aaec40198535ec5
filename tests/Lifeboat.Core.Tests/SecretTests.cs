namespace Lifeboat.Core.Tests;

public sealed class SecretTests
{
    [Fact]
    public void A_secret_prints_as_three_stars()
    {
        var secret = new Secret("correct horse battery staple");

        Assert.Equal("***", secret.ToString());
        Assert.Equal("passphrase: ***", $"passphrase: {secret}");
        Assert.Equal("passphrase: ***", string.Format(System.Globalization.CultureInfo.InvariantCulture, "passphrase: {0}", secret));
    }

    [Fact]
    public void Reveal_returns_the_value_itself()
    {
        var secret = new Secret("correct horse battery staple");

        Assert.Equal("correct horse battery staple", secret.Reveal());
        Assert.False(secret.IsEmpty);
    }

    [Fact]
    public void An_empty_secret_is_empty_and_still_prints_as_three_stars()
    {
        var secret = new Secret("");

        Assert.True(secret.IsEmpty);
        Assert.Equal("***", secret.ToString());
    }

    [Fact]
    public void A_secret_cannot_be_null()
    {
        Assert.Throws<ArgumentNullException>(() => new Secret(null!));
    }
}
