using System.Security.Cryptography;
using Azure.Storage.Blobs.Models;

namespace Lifeboat.Targets.Tests;

/// <summary>The conformance suite against s3rver on loopback; each test below its own random prefix of one bucket.</summary>
public sealed class S3TargetConformanceTests(S3rverFixture fixture) : TargetConformanceTests, IClassFixture<S3rverFixture>
{
    private readonly string _prefix = "conformance-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    protected override ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken)
    {
        var server = fixture.Require();
        return ValueTask.FromResult(TargetFactory.OpenRaw(server.Url(_prefix), server.Environment));
    }

    protected override ValueTask AssertNoUploadLeftoversAsync()
    {
        // A multipart upload that was neither completed nor aborted costs space and is invisible: none may remain.
        Assert.Empty(fixture.Require().IncompleteUploads(_prefix + "/"));
        return ValueTask.CompletedTask;
    }
}

/// <summary>The conformance suite against Azurite on loopback; each test below its own random prefix of one container.</summary>
public sealed class AzureBlobTargetConformanceTests(AzuriteFixture fixture) : TargetConformanceTests, IClassFixture<AzuriteFixture>
{
    private readonly string _prefix = "conformance-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    protected override ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken)
    {
        var server = fixture.Require();
        return ValueTask.FromResult(TargetFactory.OpenRaw(server.Url(_prefix), server.Environment));
    }

    protected override async ValueTask AssertNoUploadLeftoversAsync()
    {
        // Staged blocks that were never committed are invisible but cost space until Azure discards them. A listing that
        // includes uncommitted blobs lists the committed ones too: the difference is the leftovers.
        var container = fixture.Require().ContainerClient();
        var all = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.Uncommitted, _prefix + "/", Ct))
        {
            all.Add(blob.Name);
        }

        await foreach (var blob in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, _prefix + "/", Ct))
        {
            all.Remove(blob.Name);
        }

        Assert.Empty(all);
    }
}

/// <summary>The conformance suite against OpenSSH's sshd on loopback; each test in its own directory.</summary>
public sealed class SftpTargetConformanceTests(SshdFixture fixture) : TargetConformanceTests, IClassFixture<SshdFixture>
{
    private readonly string _directory = "conformance-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    protected override ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken)
    {
        var server = fixture.Require();
        return ValueTask.FromResult(TargetFactory.OpenRaw(server.Url(_directory), new Dictionary<string, string?>()));
    }

    protected override ValueTask AssertNoUploadLeftoversAsync()
    {
        // The server is this machine: a temp file left by a failed save would be in the directory.
        var directory = Path.Combine(fixture.Require().Root, _directory);
        Assert.Empty(Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*.tmp-*", SearchOption.AllDirectories) : []);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The conformance suite against Debian's vsftpd on loopback (FTPS, TLS required, session reuse required); each test in its own directory.</summary>
public sealed class FtpsTargetConformanceTests(VsftpdFixture fixture) : TargetConformanceTests, IClassFixture<VsftpdFixture>
{
    private readonly string _directory = "conformance-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    protected override ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken)
    {
        var server = fixture.Require();
        return ValueTask.FromResult(TargetFactory.OpenRaw(server.Url(_directory), server.Environment));
    }

    protected override ValueTask AssertNoUploadLeftoversAsync()
    {
        // The server is this machine: a temp file left by a failed save would be in the directory.
        var directory = Path.Combine(fixture.Require().Root, _directory);
        Assert.Empty(Directory.Exists(directory) ? Directory.EnumerateFiles(directory, "*.tmp-*", SearchOption.AllDirectories) : []);
        return ValueTask.CompletedTask;
    }
}
