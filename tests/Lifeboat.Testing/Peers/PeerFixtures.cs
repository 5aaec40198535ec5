namespace Lifeboat.Testing;

/// <summary>
/// One server shared by the tests of a class (xunit class fixture): started once, stopped after the last test. Each test
/// works below its own random prefix, so tests stay independent. A missing peer does not fail the fixture: each test calls
/// <see cref="Require"/>, which skips locally and fails on CI (STYLE.md rule 15); a peer that is there but does not start
/// fails every test with the server's output.
/// </summary>
public abstract class PeerFixture<TServer> : IAsyncLifetime
    where TServer : class, IAsyncDisposable
{
    private TServer? _server;
    private Exception? _startError;

    protected abstract bool Available { get; }

    protected abstract string Requirement { get; }

    protected abstract Task<TServer> StartAsync(CancellationToken cancellationToken);

    /// <summary>The running server; skips or fails the calling test when there is none.</summary>
    public TServer Require()
    {
        Peers.Require(Available, Requirement);
        if (_startError is not null)
        {
            Assert.Fail($"{Requirement} is installed but did not start: {_startError.Message}");
        }

        return _server ?? throw new InvalidOperationException("the fixture was not initialised");
    }

    public async ValueTask InitializeAsync()
    {
        if (!Available)
        {
            return;
        }

        try
        {
            _server = await StartAsync(TestContext.Current.CancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception or global::Azure.RequestFailedException)
        {
            _startError = ex;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}

public sealed class S3rverFixture : PeerFixture<S3rverServer>
{
    protected override bool Available => S3rverServer.Available;

    protected override string Requirement => S3rverServer.Requirement;

    protected override Task<S3rverServer> StartAsync(CancellationToken cancellationToken) => S3rverServer.StartAsync("lifeboat-tests", cancellationToken);
}

public sealed class AzuriteFixture : PeerFixture<AzuriteServer>
{
    protected override bool Available => AzuriteServer.Available;

    protected override string Requirement => AzuriteServer.Requirement;

    protected override Task<AzuriteServer> StartAsync(CancellationToken cancellationToken) => AzuriteServer.StartAsync("lifeboat-tests", cancellationToken);
}

public sealed class SshdFixture : PeerFixture<SshdServer>
{
    protected override bool Available => SshdServer.Available;

    protected override string Requirement => SshdServer.Requirement;

    protected override Task<SshdServer> StartAsync(CancellationToken cancellationToken) => SshdServer.StartAsync(cancellationToken);
}
