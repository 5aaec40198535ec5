using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Azure.Storage;
using Azure.Storage.Blobs;

namespace Lifeboat.Testing;

/// <summary>
/// Azurite's blob service (npm, tests/peers) on a free loopback port, in memory, with a storage account of random name and
/// key and one container.
/// </summary>
public sealed partial class AzuriteServer : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir;
    private readonly PeerProcess _process;

    private AzuriteServer(TempDir dir, PeerProcess process, string account, string key, string container, int port)
    {
        _dir = dir;
        _process = process;
        Account = account;
        AccountKey = key;
        Container = container;
        Port = port;
    }

    public static string? Script => PeerPaths.NpmFile("azurite/dist/src/blob/main.js");

    public static bool Available => Script is not null && S3rverServer.Node is not null;

    public const string Requirement = "Azurite (node, and `npm ci --prefix tests/peers`)";

    public string Account { get; }

    /// <summary>The account's shared key (a secret: tests check it never shows).</summary>
    public string AccountKey { get; }

    public string Container { get; }

    public int Port { get; }

    /// <summary>The blob service endpoint, path-style as Azurite serves it: http://127.0.0.1:PORT/ACCOUNT.</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}/{Account}");

    /// <summary>The environment a command would see: the account key.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["AZURE_STORAGE_KEY"] = AccountKey };

    public string ConnectionString => $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};BlobEndpoint={Endpoint};";

    public string Url(string prefix) => $"azure://{Container}/{prefix}?account={Account}&endpoint={Endpoint}";

    public BlobContainerClient ContainerClient() => new(new Uri($"{Endpoint}/{Container}"), new StorageSharedKeyCredential(Account, AccountKey));

    public static async Task<AzuriteServer> StartAsync(string container, CancellationToken cancellationToken)
    {
        Peers.Require(Available, Requirement);
        var account = "lb" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var dir = new TempDir("lifeboat-azurite-");
        var process = PeerProcess.Start(
            "azurite",
            S3rverServer.Node!,
            [Script!, "--blobHost", "127.0.0.1", "--blobPort", "0", "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            new Dictionary<string, string?> { ["AZURITE_ACCOUNTS"] = $"{account}:{key}" },
            dir.Path);
        try
        {
            var ready = await process.WaitForOutputAsync(Listening(), StartDeadline, cancellationToken);
            var server = new AzuriteServer(dir, process, account, key, container, int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture));
            await server.ContainerClient().CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            return server;
        }
        catch
        {
            await process.DisposeAsync();
            dir.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        _dir.Dispose();
    }

    [GeneratedRegex(@"Azurite Blob service successfully listens on http://127\.0\.0\.1:(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
