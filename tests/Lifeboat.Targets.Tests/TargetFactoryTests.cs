using Lifeboat.Core;
using Lifeboat.Targets.Local;

namespace Lifeboat.Targets.Tests;

public sealed class TargetFactoryTests
{
    private const string NotAUrlHint = "use file:///absolute/path, s3://bucket/prefix, azure://container/prefix, sftp://user@host/path or ftps://user@host/path";

    [Theory]
    [InlineData("file:///srv/lifeboat", "/srv/lifeboat")]
    [InlineData("file:///srv/lifeboat/", "/srv/lifeboat")]
    [InlineData("file://localhost/srv/lifeboat", "/srv/lifeboat")]
    [InlineData("file:///srv/life%20boat", "/srv/life boat")]
    [InlineData("/srv/lifeboat", "/srv/lifeboat")]
    [InlineData("/srv/../srv/lifeboat", "/srv/lifeboat")]
    public void A_file_URL_or_an_absolute_path_opens_a_local_target_there(string url, string root)
    {
        var target = TargetFactory.OpenRaw(url);

        var local = Assert.IsType<LocalTarget>(target);
        Assert.Equal(root, local.Root);
        Assert.Equal($"file://{root}", local.DisplayName);
    }

    [Fact]
    public void Open_wraps_the_target_for_retries_around_a_concurrency_limit()
    {
        var target = TargetFactory.Open("file:///srv/lifeboat", new TargetOpenOptions { Concurrency = 2 });

        var retrying = Assert.IsType<RetryingTarget>(target);
        var limited = Assert.IsType<ConcurrencyLimitedTarget>(retrying.Inner);
        var local = Assert.IsType<LocalTarget>(limited.Inner);
        Assert.Same(local, target.Innermost());
        Assert.Equal("file:///srv/lifeboat", target.DisplayName);
    }

    [Theory]
    [InlineData("repo")]
    [InlineData("./repo")]
    [InlineData("../backups/repo")]
    [InlineData("backups/repo")]
    [InlineData("~/backups")]
    public void A_relative_path_is_a_configuration_error_naming_it(string url)
    {
        var error = Assert.Throws<LifeboatException>(() => TargetFactory.Open(url));

        Assert.Equal($"'{url}' is not a repository URL", error.Message);
        Assert.Equal(NotAUrlHint, error.Hint);
        Assert.Equal(ErrorCode.Config, error.Code);
        Assert.Equal(2, error.ExitCode);
    }

    [Fact]
    public void A_file_URL_naming_a_host_is_a_configuration_error()
    {
        var error = Assert.Throws<LifeboatException>(() => TargetFactory.Open("file://backup-host/srv/lifeboat"));

        Assert.Equal("'file://backup-host/srv/lifeboat' names host 'backup-host'; a file URL must name a local absolute path", error.Message);
        Assert.Equal("write file:///absolute/path (three slashes)", error.Hint);
        Assert.Equal(2, error.ExitCode);
    }

    [Theory]
    [InlineData("smb://backup-host/srv/lifeboat", "smb")]
    [InlineData("gopher://example.com/1", "gopher")]
    [InlineData("gs://backups/prod", "gs")]
    public void A_kind_of_target_Lifeboat_does_not_know_is_a_configuration_error_naming_the_URL(string url, string scheme)
    {
        var error = Assert.Throws<LifeboatException>(() => TargetFactory.Open(url));

        Assert.Equal($"targets of kind '{scheme}' are not supported ('{url}')", error.Message);
        Assert.Equal(NotAUrlHint, error.Hint);
        Assert.Equal(ErrorCode.Config, error.Code);
        Assert.Equal(2, error.ExitCode);
    }

    [Theory]
    [InlineData("sftp://backup:hunter2@db1.example.com/srv/lifeboat", "'sftp://backup:***@db1.example.com/srv/lifeboat' holds a password; a secret never goes in a URL")]
    [InlineData("s3://AKIAIOSFODNN7EXAMPLE:hunter2@backups/prod", "'s3://AKIAIOSFODNN7EXAMPLE:***@backups/prod' holds credentials; a secret never goes in a URL")]
    [InlineData("azure://backups/prod?sv=2022-11-02&sig=hunter2", "'azure://backups/prod?sv=2022-11-02&sig=***' has the unknown parameter 'sv'")]
    [InlineData("ftps://backup:hunter2@backup-host/srv/lifeboat", "'ftps://backup:***@backup-host/srv/lifeboat' holds a password; a secret never goes in a URL")]
    [InlineData("ftp://backup:hunter2@backup-host/srv/lifeboat", "'ftp://backup:***@backup-host/srv/lifeboat' is plain FTP: the password and every backup would cross the network unencrypted")]
    [InlineData("smb://backup:hunter2@backup-host/srv/lifeboat", "targets of kind 'smb' are not supported ('smb://backup:***@backup-host/srv/lifeboat')")]
    [InlineData("file://backup:hunter2@backup-host/srv/lifeboat", "'file://backup:***@backup-host/srv/lifeboat' is not a repository URL")]
    [InlineData("sftp://backup:hunter2/x@db1/srv", "'sftp://backup:***@db1/srv' is not a repository URL")]
    public void An_error_about_a_URL_never_shows_its_password(string url, string message)
    {
        var error = Assert.Throws<LifeboatException>(() => TargetFactory.Open(url, new TargetOpenOptions { Environment = new Dictionary<string, string?>() }));

        Assert.Equal(message, error.Message);
        Assert.DoesNotContain("hunter2", error.Message + error.Hint, StringComparison.Ordinal);
        Assert.Equal(2, error.ExitCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void No_URL_at_all_is_a_configuration_error(string url)
    {
        var error = Assert.Throws<LifeboatException>(() => TargetFactory.Open(url));

        Assert.Equal("no repository URL is configured", error.Message);
        Assert.Equal("pass --repo URL to `lifeboat repo init`, or set Repository:Url in the configuration file", error.Hint);
        Assert.Equal(2, error.ExitCode);
    }

    [Theory]
    [InlineData("file://")]
    [InlineData("file:///")]
    public void A_file_url_without_a_directory_is_refused_instead_of_using_the_root(string url)
    {
        var ex = Assert.Throws<Lifeboat.Core.LifeboatException>(() => TargetFactory.OpenRaw(url));
        Assert.Equal(2, ex.ExitCode);
        Assert.Equal($"'{url}' names no directory", ex.Message);
    }
}
