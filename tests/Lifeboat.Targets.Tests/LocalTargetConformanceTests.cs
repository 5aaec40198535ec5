using Lifeboat.Targets.Local;

namespace Lifeboat.Targets.Tests;

/// <summary>The conformance suite against a local directory.</summary>
public sealed class LocalTargetConformanceTests : TargetConformanceTests
{
    private readonly TempDir _dir = new("lifeboat-local-target-");

    protected override ValueTask<ITarget> CreateTargetAsync(CancellationToken cancellationToken)
        => ValueTask.FromResult<ITarget>(new LocalTarget(_dir.Combine("repo-root-made-by-test")).WithRootCreated());

    protected override ValueTask DisposeEnvironmentAsync()
    {
        _dir.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override ValueTask AssertNoUploadLeftoversAsync()
    {
        // Temp files are invisible to readers, but one left by a failed save is a leak.
        Assert.Empty(Directory.EnumerateFiles(_dir.Path, "*.tmp-*", SearchOption.AllDirectories));
        return ValueTask.CompletedTask;
    }
}

internal static class LocalTargetTestExtensions
{
    /// <summary>A local target needs its root directory to exist (repo init creates it).</summary>
    public static LocalTarget WithRootCreated(this LocalTarget target)
    {
        Directory.CreateDirectory(target.Root);
        return target;
    }
}
