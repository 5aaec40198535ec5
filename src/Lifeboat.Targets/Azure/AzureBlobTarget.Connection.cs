using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Lifeboat.Core;

namespace Lifeboat.Targets.Azure;

/// <summary>The credential of an Azure Blob target (CLI.md's order) and the classification of its failures.</summary>
public sealed partial class AzureBlobTarget
{
    private static (BlobContainerClient, AzureCredentialSource) Connect(AzureLocation location, IReadOnlyDictionary<string, string?> environment, string displayName)
    {
        var options = new BlobClientOptions();
        // RetryingTarget is the one place that retries.
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = TimeSpan.FromMinutes(2);

        var connectionString = environment.GetValueOrDefault("AZURE_STORAGE_CONNECTION_STRING");
        if (!string.IsNullOrEmpty(connectionString))
        {
            if (location.Endpoint is not null)
            {
                throw new LifeboatException(
                    ErrorCode.Config,
                    $"{displayName}: both the URL (endpoint=) and AZURE_STORAGE_CONNECTION_STRING name the endpoint",
                    "leave endpoint= out of the URL (the connection string has BlobEndpoint=), or unset AZURE_STORAGE_CONNECTION_STRING");
            }

            BlobServiceClient service;
            try
            {
                service = new BlobServiceClient(connectionString, options);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new LifeboatException(ErrorCode.Config, $"{displayName}: AZURE_STORAGE_CONNECTION_STRING is not a storage connection string", "copy it from the portal (Access keys → Connection string)", ex);
            }

            if (location.Account is not null && !string.Equals(service.AccountName, location.Account, StringComparison.Ordinal))
            {
                throw new LifeboatException(
                    ErrorCode.Config,
                    $"{displayName}: the URL names the account '{location.Account}', AZURE_STORAGE_CONNECTION_STRING the account '{service.AccountName}'",
                    "make them agree, or leave account= out of the URL");
            }

            return (service.GetBlobContainerClient(location.Container), AzureCredentialSource.ConnectionString);
        }

        if (location.Account is null)
        {
            throw new LifeboatException(ErrorCode.Config, $"{displayName} names no storage account", "add ?account=NAME to the URL (or set AZURE_STORAGE_CONNECTION_STRING)");
        }

        var containerUri = new Uri(location.ServiceUri.ToString().TrimEnd('/') + "/" + location.Container);
        var key = environment.GetValueOrDefault("AZURE_STORAGE_KEY");
        if (!string.IsNullOrEmpty(key))
        {
            StorageSharedKeyCredential credential;
            try
            {
                credential = new StorageSharedKeyCredential(location.Account, key);
            }
            catch (FormatException ex)
            {
                throw new LifeboatException(ErrorCode.Config, $"{displayName}: AZURE_STORAGE_KEY is not a storage account key (base64)", "copy key1 or key2 from the portal (Access keys)", ex);
            }

            return (new BlobContainerClient(containerUri, credential, options), AzureCredentialSource.AccountKey);
        }

        var sas = environment.GetValueOrDefault("AZURE_STORAGE_SAS_TOKEN");
        if (!string.IsNullOrEmpty(sas))
        {
            return (new BlobContainerClient(containerUri, new AzureSasCredential(sas.TrimStart('?')), options), AzureCredentialSource.SasToken);
        }

        return (new BlobContainerClient(containerUri, new DefaultAzureCredential(), options), AzureCredentialSource.DefaultAzureCredential);
    }

    /// <summary>Failures of the SDK or the network; not our own cancellation, nor the content's exceptions.</summary>
    private static bool IsSdkFailure(Exception ex, CancellationToken cancellationToken)
        => ex is not TargetException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
           && ex is RequestFailedException or AuthenticationFailedException or HttpRequestException or IOException or OperationCanceledException or TimeoutException;

    /// <summary>Classifies a failure where it arises (STYLE.md rule 5). Messages name the target, never a credential.</summary>
    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        var account = _container.AccountName;
        var credential = CredentialSource switch
        {
            AzureCredentialSource.ConnectionString => "AZURE_STORAGE_CONNECTION_STRING",
            AzureCredentialSource.AccountKey => "AZURE_STORAGE_KEY",
            AzureCredentialSource.SasToken => "AZURE_STORAGE_SAS_TOKEN",
            _ => "DefaultAzureCredential",
        };
        if (ex is AuthenticationFailedException identity)
        {
            return new TargetException(
                TargetErrorKind.AuthenticationFailed,
                $"{DisplayName}: no Azure credential could be obtained for the account '{account}' ({identity.GetType().Name})",
                hint: "set AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, or sign in for DefaultAzureCredential (managed identity, workload identity, az login)",
                inner: ex);
        }

        if (ex is RequestFailedException request)
        {
            var code = request.ErrorCode ?? "";
            return (request.Status, code) switch
            {
                (404, "ContainerNotFound") => new TargetException(
                    TargetErrorKind.Misconfigured,
                    $"{DisplayName}: the container '{_location.Container}' does not exist in the account '{account}'",
                    hint: "create the container, or correct the container or account in the URL",
                    inner: ex),
                (404, _) => NotFound(name, ex),
                (403, "AuthenticationFailed") or (401, _) => new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: the account '{account}' refused the credential from {credential} ({request.Status} {code})".Replace(" )", ")", StringComparison.Ordinal),
                    hint: $"check {credential} for this account (an expired SAS, a rotated key, a clock far off)",
                    inner: ex),
                // Azure: a firewall rule or a credential the account does not accept at all; Azurite: any failed signature.
                (403, "AuthorizationFailure") => new TargetException(
                    TargetErrorKind.AuthenticationFailed,
                    $"{DisplayName}: the account '{account}' refused the credential from {credential} ({request.Status} {code})",
                    hint: $"check {credential} for this account, and that the account's network rules let this machine in",
                    inner: ex),
                (403, _) => new TargetException(
                    TargetErrorKind.AccessDenied,
                    $"{what}: access denied by the account '{account}' ({code})",
                    hint: "give the identity read, write, delete and list permissions on the container (e.g. the Storage Blob Data Contributor role), or a SAS with racwdl",
                    inner: ex),
                (416, _) => new TargetException(TargetErrorKind.Other, $"{what}: the range lies beyond the end of the object", isTransient: false, inner: ex),
                (0, _) => new TargetException(TargetErrorKind.Unavailable, $"{what}: {_container.Uri.GetLeftPart(UriPartial.Authority)} could not be reached: {Innermost(ex).Message}", inner: ex),
                (408 or 429 or >= 500, _) => new TargetException(TargetErrorKind.Unavailable, $"{what}: the service answered {request.Status} {code}".TrimEnd(), inner: ex),
                _ => new TargetException(TargetErrorKind.Other, $"{what}: the service answered {request.Status} {code}".TrimEnd(), isTransient: false, inner: ex),
            };
        }

        return new TargetException(TargetErrorKind.Unavailable, $"{what}: {_container.Uri.GetLeftPart(UriPartial.Authority)} could not be reached: {Innermost(ex).Message}", inner: ex);
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
