using System.Diagnostics;

namespace Lifeboat.Testing;

/// <summary>Runs the real `lifeboat` program in its own process (for kill -9, signals and memory measurements).</summary>
public static class LifeboatProcess
{
    /// <summary>lifeboat.dll, copied next to the test assembly by the project reference.</summary>
    public static string Dll
    {
        get
        {
            var path = Path.Combine(AppContext.BaseDirectory, "lifeboat.dll");
            Assert.True(File.Exists(path), $"lifeboat.dll is not next to the tests ({path})");
            return path;
        }
    }

    public static ProcessStartInfo StartInfo(string workingDirectory, IDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Remove("LIFEBOAT_CONFIG");
        info.Environment.Remove("LIFEBOAT_PASSPHRASE");
        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }

        return info;
    }

    public static async Task<CliResult> RunAsync(string workingDirectory, IDictionary<string, string?> environment, string[] args, TimeSpan timeout)
    {
        using var process = Process.Start(StartInfo(workingDirectory, environment, args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"lifeboat {string.Join(' ', args)} did not finish within {timeout}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
