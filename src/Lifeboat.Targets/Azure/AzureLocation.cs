using System.Text.RegularExpressions;

namespace Lifeboat.Targets.Azure;

/// <summary>
/// Where an Azure Blob target is, parsed from <c>azure://container/prefix?account=NAME[&amp;endpoint=URL]</c>. Holds no
/// credential: see <see cref="AzureCredentialSource"/>.
/// </summary>
public sealed partial record AzureLocation
{
    public required string Container { get; init; }

    /// <summary>The blob name prefix without leading or trailing '/', or "" for the whole container.</summary>
    public string Prefix { get; init; } = "";

    /// <summary>The storage account, or null when the connection string names it.</summary>
    public string? Account { get; init; }

    /// <summary>The blob service endpoint (Azurite, a sovereign cloud, a private endpoint), or null for https://ACCOUNT.blob.core.windows.net.</summary>
    public Uri? Endpoint { get; init; }

    public string DisplayName => Prefix.Length == 0 ? $"azure://{Container}" : $"azure://{Container}/{Prefix}";

    /// <summary>The service endpoint to use with an account name and a credential.</summary>
    public Uri ServiceUri => Endpoint ?? new Uri($"https://{Account}.blob.core.windows.net");

    internal static AzureLocation Parse(TargetUrl url)
    {
        url.AllowOnly("account", "endpoint");
        if (url.UserInfo is not null)
        {
            throw url.Error(
                $"'{url.Redacted}' holds credentials; a secret never goes in a URL",
                "remove 'NAME:KEY@' from the URL; set AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING instead");
        }

        if (url.Host.Length == 0)
        {
            throw url.Error($"'{url.Redacted}' names no container", "write azure://CONTAINER/prefix?account=NAME");
        }

        if (url.PortText is not null)
        {
            throw url.Error($"'{url.Redacted}' puts a port after the container '{url.Host}'", "the server goes in the endpoint parameter: azure://container/prefix?account=NAME&endpoint=http://host:10000/NAME");
        }

        if (!ContainerName().IsMatch(url.Host) || url.Host.Contains("--", StringComparison.Ordinal))
        {
            throw url.Error(
                $"'{url.Redacted}' names the container '{url.Host}', which is not a valid container name",
                "container names are 3 to 63 characters: lower-case letters, digits and single '-', starting and ending with a letter or digit");
        }

        var account = url.Get("account");
        if (account is not null && !AccountName().IsMatch(account))
        {
            throw url.Error($"'{url.Redacted}': account={account} is not a storage account name", "storage account names are 3 to 24 lower-case letters and digits");
        }

        return new AzureLocation { Container = url.Host, Prefix = url.Prefix(), Account = account, Endpoint = url.GetHttpUrl("endpoint") };
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex ContainerName();

    [GeneratedRegex("^[a-z0-9]{3,24}$", RegexOptions.CultureInvariant)]
    private static partial Regex AccountName();
}

/// <summary>Where an Azure target's credential comes from, in this order (CLI.md).</summary>
public enum AzureCredentialSource
{
    /// <summary>AZURE_STORAGE_CONNECTION_STRING (names the account, its key or a SAS, and the endpoint).</summary>
    ConnectionString,
    /// <summary>AZURE_STORAGE_KEY, the account's shared key.</summary>
    AccountKey,
    /// <summary>AZURE_STORAGE_SAS_TOKEN, a shared access signature.</summary>
    SasToken,
    /// <summary>Azure.Identity's DefaultAzureCredential: environment, workload identity, managed identity, Azure CLI.</summary>
    DefaultAzureCredential,
}
