using System.Globalization;
using System.Text.RegularExpressions;

namespace Lifeboat.Testing;

/// <summary>
/// s3rver (npm, tests/peers) on a free loopback port, with one bucket, its data in a temp directory. It can be stopped
/// and started again on the same port with the same data: an S3 server that goes away mid-upload and comes back.
/// s3rver knows one fixed key pair (S3RVER/S3RVER) and checks signatures.
/// </summary>
public sealed partial class S3rverServer : IAsyncDisposable
{
    public const string AccessKeyId = "S3RVER";
    public const string SecretAccessKey = "S3RVER";
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    private readonly TempDir _dir;
    private PeerProcess? _process;

    private S3rverServer(TempDir dir, string bucket)
    {
        _dir = dir;
        Bucket = bucket;
    }

    public static string? Script => PeerPaths.NpmFile("s3rver/bin/s3rver.js");

    public static string? Node => PeerPaths.OnPath("node");

    public static bool Available => Script is not null && Node is not null;

    public const string Requirement = "s3rver (node, and `npm ci --prefix tests/peers`)";

    public string Bucket { get; }

    public int Port { get; private set; }

    public string DataDirectory => _dir.Combine("data");

    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    /// <summary>Credentials as the target reads them: the environment a command would see.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?>
    {
        ["AWS_ACCESS_KEY_ID"] = AccessKeyId,
        ["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey,
    };

    /// <summary>The target URL of a prefix in the bucket.</summary>
    public string Url(string prefix) => $"s3://{Bucket}/{prefix}?endpoint=http://127.0.0.1:{Port}&region=us-east-1&path-style=true";

    public static async Task<S3rverServer> StartAsync(string bucket, CancellationToken cancellationToken)
    {
        Peers.Require(Available, Requirement);
        var server = new S3rverServer(new TempDir("lifeboat-s3rver-"), bucket);
        try
        {
            Directory.CreateDirectory(server.DataDirectory);
            await server.RunAsync(port: 0, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server (killed, as by a crash): connections are refused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Starts the server again on the same port with the same data.</summary>
    public Task RestartAsync(CancellationToken cancellationToken) => RunAsync(Port, cancellationToken);

    /// <summary>Multipart uploads that were started under <paramref name="prefix"/> and neither completed nor aborted.</summary>
    public IReadOnlyList<string> IncompleteUploads(string prefix)
    {
        var uploads = Path.Combine(DataDirectory, Bucket, "._S3rver_uploads");
        if (!Directory.Exists(uploads))
        {
            return [];
        }

        return Directory.EnumerateFiles(uploads, "key", SearchOption.AllDirectories)
            .Select(File.ReadAllText)
            .Where(key => key.StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
    }

    private async Task RunAsync(int port, CancellationToken cancellationToken)
    {
        var process = PeerProcess.Start(
            "s3rver",
            Node!,
            [Script!, "--directory", DataDirectory, "--address", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--configure-bucket", Bucket],
            workingDirectory: _dir.Path);
        try
        {
            var ready = await process.WaitForOutputAsync(Listening(), StartDeadline, cancellationToken);
            Port = int.Parse(ready.Groups[1].Value, CultureInfo.InvariantCulture);
            _process = process;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dir.Dispose();
    }

    [GeneratedRegex(@"S3rver listening on 127\.0\.0\.1:(\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex Listening();
}
