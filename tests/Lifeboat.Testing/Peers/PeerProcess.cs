using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Lifeboat.Testing;

/// <summary>
/// A server process started by a test (s3rver, Azurite, sshd). Readiness is the server saying so on its output (no
/// polling, no sleeps), within a deadline; the whole process tree is killed on dispose.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Lock _lock = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waiters = [];
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PeerProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    /// <summary>Everything the process printed so far (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Raised for every line the process prints (stdout and stderr), on the reading thread.</summary>
    public event Action<string>? LinePrinted;

    public static PeerProcess Start(string name, string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess(name, process);
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data);
        process.Exited += (_, _) => peer.OnExited();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Waits until the process prints a line matching <paramref name="pattern"/>; fails with its output if it exits or the deadline passes.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            foreach (var line in _output)
            {
                var match = pattern.Match(line);
                if (match.Success)
                {
                    return match;
                }
            }

            _waiters.Add((pattern, found));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(deadline);
        try
        {
            await Task.WhenAny(found.Task, _exited.Task).WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The deadline passed: reported below.
        }
        finally
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Found == found);
            }
        }

        if (found.Task.IsCompletedSuccessfully)
        {
            return await found.Task;
        }

        var why = HasExited ? $"exited with code {SafeExitCode()}" : $"did not print /{pattern}/ within {deadline.TotalSeconds:0} s";
        throw new InvalidOperationException($"{Name} {why}; its output:\n{Output}");
    }

    private int? SafeExitCode()
    {
        try
        {
            return _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        LinePrinted?.Invoke(line);
        lock (_lock)
        {
            _output.Enqueue(line);
            foreach (var waiter in _waiters.ToList())
            {
                var match = waiter.Pattern.Match(line);
                if (match.Success)
                {
                    waiter.Found.TrySetResult(match);
                    _waiters.Remove(waiter);
                }
            }
        }
    }

    private void OnExited() => _exited.TrySetResult();

    /// <summary>Kills the process tree and waits until it is gone (its port is free again).</summary>
    public async Task StopAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Not started or already gone.
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }
}

/// <summary>Where the test peers are: npm packages under tests/peers, programs on PATH.</summary>
public static class PeerPaths
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lifeboat.slnx")))
            {
                return dir.FullName;
            }
        }

        return null;
    });

    /// <summary>The repository's root directory (where Lifeboat.slnx is), or null when the tests run elsewhere.</summary>
    public static string? RepositoryRoot => Root.Value;

    /// <summary>A file of an npm package installed by <c>npm ci --prefix tests/peers</c>, or null when it is not there.</summary>
    public static string? NpmFile(string relativePath)
    {
        if (RepositoryRoot is null)
        {
            return null;
        }

        var path = Path.Combine(RepositoryRoot, "tests", "peers", "node_modules", relativePath);
        return File.Exists(path) ? path : null;
    }

    /// <summary>A program found on PATH, or null.</summary>
    public static string? OnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot pick their own).</summary>
    public static int FreeLoopbackPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }
}
