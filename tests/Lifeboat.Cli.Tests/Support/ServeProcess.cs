using System.Diagnostics;
using System.Text;

namespace Lifeboat.Testing;

/// <summary>
/// `lifeboat serve` as a real process (dotnet lifeboat.dll) on a free loopback port, for crash tests: started, waited
/// for until it says it serves, and killed with SIGKILL (no shutdown code runs) or stopped on dispose.
/// </summary>
public sealed class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _serving = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<ServeProcess> StartAsync(string workingDirectory, IDictionary<string, string?> environment, string configPath, CancellationToken cancellationToken)
    {
        var port = Lifeboat.Postgres.Tools.PostgresCluster.FreePort();
        var info = LifeboatProcess.StartInfo(workingDirectory, environment, "--config", configPath, "serve", "--urls", $"http://127.0.0.1:{port}");
        var serve = new ServeProcess(Process.Start(info)!);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (serve._output)
            {
                serve._output.AppendLine(line);
            }

            if (line.Contains("serving on", StringComparison.Ordinal))
            {
                serve._serving.TrySetResult();
            }
        }

        serve._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        serve._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        serve._process.BeginOutputReadLine();
        serve._process.BeginErrorReadLine();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            await Task.WhenAny(serve._serving.Task, serve._process.WaitForExitAsync(deadline.Token)).WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        if (!serve._serving.Task.IsCompleted)
        {
            await serve.KillAsync();
            throw new InvalidOperationException("lifeboat serve did not start:\n" + serve.Output);
        }

        return serve;
    }

    /// <summary>SIGKILL: the process ends where it is, nothing of it runs again.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
