namespace Lifeboat.Core.Tests;

public sealed class RedactTests
{
    [Theory]
    [InlineData("sftp://backup:hunter2@db1.example.com/srv/lifeboat", "sftp://backup:***@db1.example.com/srv/lifeboat")]
    [InlineData("sftp://backup:hunter2@db1.example.com:2222/srv/lifeboat", "sftp://backup:***@db1.example.com:2222/srv/lifeboat")]
    [InlineData("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY@backups/prod", "s3://AKIAIOSFODNN7EXAMPLE:***@backups/prod")]
    [InlineData("postgres://app:s3cret@db:5432/app", "postgres://app:***@db:5432/app")]
    [InlineData("postgresql://app:s3cret@/app?host=/var/run/postgresql", "postgresql://app:***@/app?host=/var/run/postgresql")]
    [InlineData("file://user:pw@host/srv/repo", "file://user:***@host/srv/repo")]
    [InlineData("sftp://backup:@host/repo", "sftp://backup:***@host/repo")]
    public void The_password_in_a_URL_is_masked(string url, string expected)
    {
        Assert.Equal(expected, Redact.Url(url));
    }

    [Theory]
    // Users paste passwords without percent-encoding them: '@' and '/' (common in AWS secret keys) must not end the mask early.
    [InlineData("sftp://backup:p@ss@host/repo", "sftp://backup:***@host/repo")]
    [InlineData("sftp://backup:p@ss:w@rd@host:22/repo", "sftp://backup:***@host:22/repo")]
    [InlineData("s3://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY@backups/prod", "s3://AKIAIOSFODNN7EXAMPLE:***@backups/prod")]
    public void A_password_containing_at_signs_or_slashes_is_masked_whole(string url, string expected)
    {
        var redacted = Redact.Url(url);

        Assert.Equal(expected, redacted);
    }

    [Theory]
    [InlineData("file:///srv/lifeboat")]
    [InlineData("/srv/lifeboat")]
    [InlineData("sftp://backup@db1.example.com/srv/lifeboat")]
    [InlineData("sftp://backup@db1.example.com:2222/srv/lifeboat")]
    [InlineData("https://blob.example.com:8443/container/prefix")]
    [InlineData("s3://backups/prod?region=eu-central-1")]
    public void A_URL_without_credentials_is_unchanged(string url)
    {
        Assert.Equal(url, Redact.Url(url));
    }

    [Fact]
    public void The_key_file_path_of_an_sftp_URL_is_not_a_secret_and_stays()
    {
        const string Url = "sftp://backup@db1.example.com:2222/srv/lifeboat?key=/root/.ssh/id_ed25519&known_hosts=/etc/ssh/known";

        Assert.Equal(Url, Redact.Url(Url));
    }

    [Theory]
    [InlineData(
        "https://acct.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2026-12-01T00:00:00Z&sig=Zm9vYmFyYmF6%2Bqux%3D",
        "https://acct.blob.core.windows.net/backups?sv=2022-11-02&ss=b&srt=co&sp=rwdlac&se=2026-12-01T00:00:00Z&sig=***")]
    [InlineData("azure://backups/prod?sig=abc&sp=rw", "azure://backups/prod?sig=***&sp=rw")]
    [InlineData("azure://backups/prod?SIG=abc", "azure://backups/prod?SIG=***")]
    [InlineData("azure://backups/prod?sas=sv%3D2022%26sig%3Dabc", "azure://backups/prod?sas=***")]
    [InlineData("https://vault.example.com/v1/secret?token=hvs.CAESIJ", "https://vault.example.com/v1/secret?token=***")]
    [InlineData("s3://backups/prod?access_key=AKIA&secret_key=wJalr&region=eu", "s3://backups/prod?access_key=***&secret_key=***&region=eu")]
    [InlineData("s3://backups/prod?accessKey=AKIA&secretKey=wJalr", "s3://backups/prod?accessKey=***&secretKey=***")]
    [InlineData("azure://backups/prod?accountkey=c2VjcmV0", "azure://backups/prod?accountkey=***")]
    [InlineData("postgres://app@db/app?password=s3cret&sslmode=require", "postgres://app@db/app?password=***&sslmode=require")]
    [InlineData("postgres://app@db/app?sslmode=require&passwd=s3cret", "postgres://app@db/app?sslmode=require&passwd=***")]
    [InlineData("sftp://backup@host/repo?secret=abc", "sftp://backup@host/repo?secret=***")]
    public void Query_parameters_that_carry_credentials_are_masked(string url, string expected)
    {
        Assert.Equal(expected, Redact.Url(url));
    }

    [Fact]
    public void Every_URL_in_a_longer_text_is_redacted()
    {
        var text = "copy from sftp://a:one@h1/r to s3://k:two@bucket/p?sig=three failed";

        Assert.Equal("copy from sftp://a:***@h1/r to s3://k:***@bucket/p?sig=*** failed", Redact.Url(text));
    }

    [Theory]
    [InlineData("Host=db;Username=app;Password=s3cret;Database=app", "Host=db;Username=app;Password=***;Database=app")]
    [InlineData("Host=db;Username=app;Password=s3cret", "Host=db;Username=app;Password=***")]
    [InlineData("Password=s3cret;Host=db", "Password=***;Host=db")]
    [InlineData("Host=db;password=s3cret", "Host=db;password=***")]
    [InlineData("Host=db;PASSWORD=s3cret", "Host=db;PASSWORD=***")]
    [InlineData("Host=db;Pwd=s3cret", "Host=db;Pwd=***")]
    [InlineData("Host=db; Password = s3cret ;Database=app", "Host=db; Password = *** ;Database=app")]
    [InlineData("Host=db;Password=;Database=app", "Host=db;Password=***;Database=app")]
    public void The_password_of_an_Npgsql_connection_string_is_masked(string connectionString, string expected)
    {
        Assert.Equal(expected, Redact.ConnectionString(connectionString));
    }

    [Theory]
    // Quoting lets an Npgsql password contain ';' and quotes; an unquoted one may contain spaces (the value ends at ';').
    [InlineData("Host=db;Password=\"se;cr\"\"et\";Database=app", "Host=db;Password=***;Database=app")]
    [InlineData("Host=db;Password='se;cr''et';Database=app", "Host=db;Password=***;Database=app")]
    [InlineData("Host=db;Password=correct horse battery;Database=app", "Host=db;Password=***;Database=app")]
    public void A_quoted_or_spaced_Npgsql_password_is_masked_whole(string connectionString, string expected)
    {
        Assert.Equal(expected, Redact.ConnectionString(connectionString));
    }

    [Theory]
    [InlineData("host=db user=app password=s3cret dbname=app", "host=db user=app password=*** dbname=app")]
    [InlineData("password=s3cret host=db", "password=*** host=db")]
    [InlineData("host=db password = s3cret dbname=app", "host=db password = *** dbname=app")]
    [InlineData("host=db password='s3 cr;et' dbname=app", "host=db password=*** dbname=app")]
    [InlineData("host=db password='it\\'s' dbname=app", "host=db password=*** dbname=app")]
    [InlineData("host=db\tpassword=s3cret\tdbname=app", "host=db\tpassword=***\tdbname=app")]
    public void The_password_of_a_libpq_connection_string_is_masked(string connectionString, string expected)
    {
        Assert.Equal(expected, Redact.ConnectionString(connectionString));
    }

    [Theory]
    [InlineData("postgres://app:s3cret@db:5432/app", "postgres://app:***@db:5432/app")]
    [InlineData("postgresql://app@db/app?password=s3cret", "postgresql://app@db/app?password=***")]
    [InlineData("postgresql://app@db/app?sslmode=require&password=s3cret&application_name=x", "postgresql://app@db/app?sslmode=require&password=***&application_name=x")]
    public void The_password_of_a_postgres_URI_is_masked(string uri, string expected)
    {
        Assert.Equal(expected, Redact.ConnectionString(uri));
    }

    [Theory]
    [InlineData("Host=db;Username=app;Database=app")]
    [InlineData("host=db user=app dbname=app")]
    [InlineData("Host=db;Username=password_admin;Database=passwords")]
    public void A_connection_string_without_a_password_is_unchanged(string connectionString)
    {
        Assert.Equal(connectionString, Redact.ConnectionString(connectionString));
    }

    [Fact]
    public void An_azure_connection_string_account_key_is_masked()
    {
        var redacted = Redact.ConnectionString("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=c2VjcmV0a2V5Zm9ydGVzdA==;EndpointSuffix=core.windows.net");
        Assert.DoesNotContain("c2VjcmV0", redacted, StringComparison.Ordinal);
        Assert.Contains("AccountName=acme", redacted, StringComparison.Ordinal);
    }
}
