using Lifeboat.Core;
using Lifeboat.Targets.Azure;
using Lifeboat.Targets.S3;
using Lifeboat.Targets.Sftp;

namespace Lifeboat.Targets.Tests;

/// <summary>The URL forms of the remote targets (CLI.md): what they open, and the exit-2 errors when a part is wrong.</summary>
public sealed class RemoteTargetUrlTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoEnvironment = new();
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static LifeboatException Refused(string url, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var error = Assert.ThrowsAny<LifeboatException>(() => TargetFactory.OpenRaw(url, environment ?? NoEnvironment));
        Assert.Equal(2, error.ExitCode);
        return error;
    }

    [Fact]
    public async Task An_s3_URL_names_the_bucket_prefix_endpoint_region_and_write_options()
    {
        await using var target = TargetFactory.OpenRaw("s3://backups/prod/db1/?endpoint=https://minio.example.com:9000&region=eu-west-1&path-style=true&sse=aws:kms&storage-class=STANDARD_IA", NoEnvironment);

        var s3 = Assert.IsType<S3Target>(target);
        Assert.Equal("s3://backups/prod/db1", s3.DisplayName);
        Assert.Equal(
            new S3Location
            {
                Bucket = "backups",
                Prefix = "prod/db1",
                Endpoint = new Uri("https://minio.example.com:9000"),
                Region = "eu-west-1",
                PathStyle = true,
                ServerSideEncryption = "aws:kms",
                StorageClass = "STANDARD_IA",
            },
            s3.Location);
        Assert.False(s3.Capabilities.AtomicCreate); // not known before the first create
        Assert.False(s3.Capabilities.IsLocal);
    }

    [Fact]
    public async Task An_s3_URL_of_a_whole_bucket_on_AWS_takes_the_region_from_the_environment()
    {
        await using var target = TargetFactory.OpenRaw("s3://backups", new Dictionary<string, string?> { ["AWS_REGION"] = "eu-central-1" });

        var s3 = Assert.IsType<S3Target>(target);
        Assert.Equal("s3://backups", s3.DisplayName);
        Assert.Equal(new S3Location { Bucket = "backups", Region = "eu-central-1" }, s3.Location);
    }

    [Fact]
    public void An_s3_URL_on_AWS_without_any_region_is_a_configuration_error()
    {
        // The SDK also looks at this process's environment and the AWS config file.
        var awsConfig = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aws", "config");
        if (new[] { "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE" }.Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))) || File.Exists(awsConfig))
        {
            Assert.Skip("the AWS SDK finds a region in this machine's environment");
        }

        var error = Refused("s3://backups/prod");

        Assert.Equal("s3://backups/prod: no region is known (the URL has no region= and neither AWS_REGION nor the AWS profile names one)", error.Message);
        Assert.Equal("add &region=REGION to the URL: the bucket's region, e.g. s3://bucket/prefix?region=eu-west-1", error.Hint);
    }

    [Theory]
    [InlineData("s3:///prod", "'s3:///prod' names no bucket", "write s3://BUCKET/prefix?endpoint=https://host&region=REGION")]
    [InlineData("s3://Backups/prod", "'s3://Backups/prod' names the bucket 'Backups', which is not a valid bucket name", "bucket names are 3 to 63 characters: lower-case letters, digits, '.' and '-', starting and ending with a letter or digit")]
    [InlineData("s3://backups:9000/prod", "'s3://backups:9000/prod' puts a port after the bucket 'backups'", "the server goes in the endpoint parameter: s3://bucket/prefix?endpoint=http://host:9000")]
    [InlineData("s3://backups/prod?endpoint=minio:9000", "'s3://backups/prod?endpoint=minio:9000': endpoint=minio:9000 is not an http:// or https:// URL", "write endpoint=https://host[:port]")]
    [InlineData("s3://backups/prod?region=EU West", "'s3://backups/prod?region=EU West': region=EU West is not a region name", "write region=eu-west-1 (or the name your S3-compatible server expects; us-east-1 when it does not care)")]
    [InlineData("s3://backups/prod?path-style=yes", "'s3://backups/prod?path-style=yes': path-style=yes is neither true nor false", "write path-style=true or path-style=false")]
    [InlineData("s3://backups/prod?sse=aes", "'s3://backups/prod?sse=aes': sse=aes is not a server-side encryption Lifeboat knows", "write sse=AES256 (keys managed by S3) or sse=aws:kms (the bucket's KMS key)")]
    [InlineData("s3://backups/prod?storage-class=DEEP_ARCHIVE", "'s3://backups/prod?storage-class=DEEP_ARCHIVE': objects of storage-class=DEEP_ARCHIVE cannot be read without a restore, so backups could not be verified or restored", "use one of STANDARD, STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, REDUCED_REDUNDANCY, EXPRESS_ONEZONE; move old objects to DEEP_ARCHIVE with a lifecycle rule instead")]
    [InlineData("s3://backups/prod?secret_key=abc", "'s3://backups/prod?secret_key=***' has the unknown parameter 'secret_key'", "s3 URLs take 'endpoint', 'region', 'path-style', 'sse', 'storage-class'; a secret never goes in a URL (docs/configuration.md lists where credentials come from)")]
    [InlineData("s3://backups/prod?region=eu-west-1&region=us-east-1", "'s3://backups/prod?region=eu-west-1&region=us-east-1' gives the parameter 'region' twice", "give each parameter once")]
    [InlineData("s3://backups/prod?region=", "'s3://backups/prod?region=' gives the parameter 'region' no value", "write region=VALUE, or leave the parameter out")]
    [InlineData("s3://backups/prod/../other", "'s3://backups/prod/../other' has the path '/prod/../other' with an empty, '.' or '..' part", "write the prefix as a/b/c")]
    [InlineData("s3:backups/prod", "'s3:backups/prod' is not a repository URL", "write s3://… (two slashes after the colon)")]
    public void A_wrong_part_of_an_s3_URL_is_named_with_how_to_fix_it(string url, string message, string hint)
    {
        var error = Refused(url);

        Assert.Equal(message, error.Message);
        Assert.Equal(hint, error.Hint);
    }

    [Fact]
    public async Task An_azure_URL_names_the_container_prefix_account_and_endpoint()
    {
        await using var target = TargetFactory.OpenRaw("azure://backups/prod?account=lifeboatprod&endpoint=https://lifeboatprod.blob.core.usgovcloudapi.net", new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = Convert.ToBase64String(new byte[64]) });

        var azure = Assert.IsType<AzureBlobTarget>(target);
        Assert.Equal("azure://backups/prod", azure.DisplayName);
        Assert.Equal(AzureCredentialSource.AccountKey, azure.CredentialSource);
        Assert.True(azure.Capabilities.AtomicCreate);
    }

    [Theory]
    [InlineData("AZURE_STORAGE_SAS_TOKEN", "sv=2022-11-02&sig=abc", AzureCredentialSource.SasToken)]
    [InlineData("PATH", "/usr/bin", AzureCredentialSource.DefaultAzureCredential)]
    public async Task Without_a_key_an_azure_target_uses_a_SAS_or_else_DefaultAzureCredential(string variable, string value, AzureCredentialSource expected)
    {
        await using var target = TargetFactory.OpenRaw("azure://backups/prod?account=lifeboatprod", new Dictionary<string, string?> { [variable] = value });

        Assert.Equal(expected, Assert.IsType<AzureBlobTarget>(target).CredentialSource);
    }

    [Theory]
    [InlineData("azure://backups/prod", "azure://backups/prod names no storage account", "add ?account=NAME to the URL (or set AZURE_STORAGE_CONNECTION_STRING)")]
    [InlineData("azure://Backups/prod?account=lifeboatprod", "'azure://Backups/prod?account=lifeboatprod' names the container 'Backups', which is not a valid container name", "container names are 3 to 63 characters: lower-case letters, digits and single '-', starting and ending with a letter or digit")]
    [InlineData("azure://backups/prod?account=Lifeboat_Prod", "'azure://backups/prod?account=Lifeboat_Prod': account=Lifeboat_Prod is not a storage account name", "storage account names are 3 to 24 lower-case letters and digits")]
    [InlineData("azure://lifeboatprod:key@backups/prod", "'azure://lifeboatprod:***@backups/prod' holds credentials; a secret never goes in a URL", "remove 'NAME:KEY@' from the URL; set AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING instead")]
    [InlineData("azure://backups/prod?account=lifeboatprod&sig=abc", "'azure://backups/prod?account=lifeboatprod&sig=***' has the unknown parameter 'sig'", "azure URLs take 'account', 'endpoint'; a secret never goes in a URL (docs/configuration.md lists where credentials come from)")]
    public void A_wrong_part_of_an_azure_URL_is_named_with_how_to_fix_it(string url, string message, string hint)
    {
        var error = Refused(url);

        Assert.Equal(message, error.Message);
        Assert.Equal(hint, error.Hint);
    }

    [Fact]
    public void An_azure_URL_and_a_connection_string_that_name_different_accounts_are_refused()
    {
        var connection = "DefaultEndpointsProtocol=https;AccountName=other;AccountKey=" + Convert.ToBase64String(new byte[64]) + ";EndpointSuffix=core.windows.net";

        var error = Refused("azure://backups/prod?account=lifeboatprod", new Dictionary<string, string?> { ["AZURE_STORAGE_CONNECTION_STRING"] = connection });

        Assert.Equal("azure://backups/prod: the URL names the account 'lifeboatprod', AZURE_STORAGE_CONNECTION_STRING the account 'other'", error.Message);
        Assert.DoesNotContain(connection, error.Message + error.Hint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_sftp_URL_names_the_user_host_port_directory_key_and_known_hosts()
    {
        await using var target = TargetFactory.OpenRaw("sftp://backup@db1.example.com:2222/srv/lifeboat/?key=/etc/lifeboat/id_ed25519&known-hosts=/etc/lifeboat/known_hosts", NoEnvironment);

        var sftp = Assert.IsType<SftpTarget>(target);
        Assert.Equal("sftp://backup@db1.example.com:2222/srv/lifeboat", sftp.DisplayName);
        Assert.True(sftp.Capabilities.AtomicCreate);
    }

    [Fact]
    public async Task Without_known_hosts_or_fingerprint_an_sftp_target_checks_the_users_known_hosts_file()
    {
        var home = _dir.Dir("home");
        Directory.CreateDirectory(Path.Combine(home, ".ssh"));
        await File.WriteAllTextAsync(Path.Combine(home, ".ssh", "known_hosts"), "db1.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", TestContext.Current.CancellationToken);

        await using var target = TargetFactory.OpenRaw("sftp://backup@db1.example.com/srv/lifeboat?key=~/.ssh/id_ed25519", new Dictionary<string, string?> { ["HOME"] = home });

        Assert.Equal("sftp://backup@db1.example.com/srv/lifeboat", target.DisplayName);
    }

    [Fact]
    public async Task A_known_hosts_file_that_cannot_be_read_is_a_configuration_error_naming_it_before_anything_is_sent()
    {
        var missing = _dir.Combine("no_known_hosts");
        await using var target = TargetFactory.OpenRaw($"sftp://backup@db1.example.com/srv/lifeboat?key=/k&known-hosts={missing}", NoEnvironment);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", TestContext.Current.CancellationToken));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.StartsWith($"sftp://backup@db1.example.com/srv/lifeboat: cannot read the known_hosts file {missing}: ", error.Message, StringComparison.Ordinal);
        Assert.Equal($"create it with the server's key, after checking its fingerprint with the server's administrator: ssh-keyscan -p 22 db1.example.com >> {missing}; or pin the key with &fingerprint=SHA256:…", error.Hint);
    }

    [Theory]
    [InlineData("sftp://db1.example.com/srv/lifeboat?key=/k&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "'sftp://db1.example.com/srv/lifeboat?key=/k&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' names no user", "write sftp://USER@host/absolute/path")]
    [InlineData("sftp://backup@db1.example.com?key=/k", "'sftp://backup@db1.example.com?key=/k' names no directory", "write sftp://user@host/absolute/path/to/the/repository (the root directory is never used)")]
    [InlineData("sftp://backup@db1.example.com:0/srv?key=/k", "'sftp://backup@db1.example.com:0/srv?key=/k' names the port '0', which is not a number from 1 to 65535", "write sftp://host:PORT/…")]
    [InlineData("sftp://backup@db1.example.com/srv?key=/k&fingerprint=MD5:aa:bb", "'sftp://backup@db1.example.com/srv?key=/k&fingerprint=MD5:aa:bb': fingerprint=MD5:aa:bb is not a SHA-256 fingerprint", "write fingerprint=SHA256:… as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the server (43 base64 characters)")]
    [InlineData("sftp://backup@db1.example.com/srv?key=/k&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU&known-hosts=/k", "'sftp://backup@db1.example.com/srv?key=/k&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU&known-hosts=/k' gives both known-hosts and fingerprint", "give one: the host key is checked against a known_hosts file or a pinned fingerprint")]
    [InlineData("sftp://backup@db1.example.com/srv?key=id_ed25519&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "'sftp://backup@db1.example.com/srv?key=id_ed25519&fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU': key=id_ed25519 is not an absolute path", "write key=/absolute/path/to/the/private/key")]
    [InlineData("sftp://backup@db1.example.com/srv?fingerprint=SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU", "sftp://backup@db1.example.com/srv has no credentials", "add &key=/path/to/private/key to the URL, or set LIFEBOAT_SFTP_PASSWORD")]
    [InlineData("sftp://backup@db1.example.com/srv?password=x", "'sftp://backup@db1.example.com/srv?password=***' has the unknown parameter 'password'", "sftp URLs take 'key', 'known-hosts', 'fingerprint'; a secret never goes in a URL (docs/configuration.md lists where credentials come from)")]
    public void A_wrong_part_of_an_sftp_URL_is_named_with_how_to_fix_it(string url, string message, string hint)
    {
        var error = Refused(url);

        Assert.Equal(message, error.Message);
        Assert.Equal(hint, error.Hint);
    }

    [Fact]
    public void Open_wraps_a_remote_target_for_retries_around_a_concurrency_limit_of_its_default()
    {
        var target = TargetFactory.Open("s3://backups/prod?region=eu-west-1", new TargetOpenOptions { Environment = NoEnvironment });

        var retrying = Assert.IsType<RetryingTarget>(target);
        Assert.IsType<ConcurrencyLimitedTarget>(retrying.Inner);
        Assert.IsType<S3Target>(target.Innermost());
        Assert.Equal("s3://backups/prod", target.DisplayName);
    }
}
