using System.Diagnostics;

namespace Lifeboat.Testing;

/// <summary>Runs a program and returns its exit code and output (for chattr and friends).</summary>
public static class Programs
{
    public static async Task<(int Code, string Output)> RunAsync(string program, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode, await stdout + await stderr);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, $"{program}: {ex.Message}");
        }
    }
}
