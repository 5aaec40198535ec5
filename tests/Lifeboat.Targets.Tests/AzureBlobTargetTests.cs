using System.Security.Cryptography;
using Azure.Storage;
using Azure.Storage.Sas;
using Lifeboat.Targets.Azure;

namespace Lifeboat.Targets.Tests;

/// <summary>What only an Azure Blob target does: its credential sources, containers, a service that does not answer.</summary>
public sealed class AzureBlobTargetTests(AzuriteFixture fixture) : IClassFixture<AzuriteFixture>
{
    private readonly string _prefix = "azure-tests-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertRoundTripAsync(ITarget target)
    {
        var bytes = TestData.Random(1000, seed: 1);
        await target.SaveAsync("config", ObjectSource.FromBytes(bytes), SaveMode.Create, Ct);
        Assert.Equal(bytes, await target.ReadAllAsync("config", Ct));
        Assert.Equal(["config"], (await target.ListAllAsync("", Ct)).Select(o => o.Name));
    }

    [Fact]
    public async Task A_wrong_account_key_fails_at_once_with_exit_code_2_naming_the_target_and_never_the_key()
    {
        var server = fixture.Require();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var logger = new ListLogger();
        await using var target = TargetFactory.Open(server.Url(_prefix), new TargetOpenOptions
        {
            Environment = new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = key },
            Logger = logger,
        });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("config", ObjectSource.FromBytes(TestData.Random(10, seed: 2)), SaveMode.Replace, Ct));

        Assert.Equal(TargetErrorKind.AuthenticationFailed, error.Kind);
        Assert.Equal(2, error.ExitCode);
        // Azurite answers AuthorizationFailure where Azure answers AuthenticationFailed: both are refused credentials.
        Assert.Equal($"azure://lifeboat-tests/{_prefix}: the account '{server.Account}' refused the credential from AZURE_STORAGE_KEY (403 AuthorizationFailure)", error.Message);
        Assert.Equal("check AZURE_STORAGE_KEY for this account, and that the account's network rules let this machine in", error.Hint);
        Assert.DoesNotContain(key, error.Message + error.Hint, StringComparison.Ordinal);
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public async Task A_missing_container_is_a_configuration_error_naming_it()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix).Replace("azure://lifeboat-tests/", "azure://no-such-container/", StringComparison.Ordinal), server.Environment);

        var error = await Assert.ThrowsAsync<TargetException>(() => target.SaveAsync("config", ObjectSource.FromBytes(new byte[] { 1 }), SaveMode.Create, Ct));

        Assert.Equal(TargetErrorKind.Misconfigured, error.Kind);
        Assert.Equal(2, error.ExitCode);
        Assert.Equal($"azure://no-such-container/{_prefix}: the container 'no-such-container' does not exist in the account '{server.Account}'", error.Message);
    }

    [Fact]
    public async Task A_connection_string_names_the_account_its_key_and_the_endpoint()
    {
        var server = fixture.Require();
        await using var target = TargetFactory.OpenRaw($"azure://lifeboat-tests/{_prefix}", new Dictionary<string, string?> { ["AZURE_STORAGE_CONNECTION_STRING"] = server.ConnectionString });

        Assert.Equal(AzureCredentialSource.ConnectionString, Assert.IsType<AzureBlobTarget>(target).CredentialSource);
        await AssertRoundTripAsync(target);
    }

    [Fact]
    public async Task A_shared_access_signature_from_the_environment_is_used()
    {
        var server = fixture.Require();
        var sas = new BlobSasBuilder(BlobContainerSasPermissions.All, TimeProvider.System.GetUtcNow().AddHours(1)) { BlobContainerName = server.Container }
            .ToSasQueryParameters(new StorageSharedKeyCredential(server.Account, server.AccountKey))
            .ToString();
        await using var target = TargetFactory.OpenRaw(server.Url(_prefix), new Dictionary<string, string?> { ["AZURE_STORAGE_SAS_TOKEN"] = "?" + sas });

        Assert.Equal(AzureCredentialSource.SasToken, Assert.IsType<AzureBlobTarget>(target).CredentialSource);
        await AssertRoundTripAsync(target);
    }

    [Fact]
    public async Task A_service_that_does_not_answer_is_a_transient_failure()
    {
        var port = PeerPaths.FreeLoopbackPort();
        await using var target = TargetFactory.OpenRaw($"azure://backups/x?account=lbtest&endpoint=http://127.0.0.1:{port}/lbtest", new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = Convert.ToBase64String(new byte[64]) });

        var error = await Assert.ThrowsAsync<TargetException>(() => target.StatAsync("config", Ct));

        Assert.Equal(TargetErrorKind.Unavailable, error.Kind);
        Assert.True(error.IsTransient);
        Assert.StartsWith($"cannot stat azure://backups/x/config: http://127.0.0.1:{port} could not be reached: ", error.Message, StringComparison.Ordinal);
    }
}
