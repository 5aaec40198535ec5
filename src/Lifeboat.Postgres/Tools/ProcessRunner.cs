using System.Diagnostics;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Postgres.Tools;

/// <summary>The result of a program run.</summary>
public sealed record ProcessResult(int ExitCode, string Output, string Error)
{
    public bool Success => ExitCode == 0;
}

/// <summary>
/// Runs PostgreSQL's own programs (initdb, pg_ctl, pg_dump, pg_amcheck…). As root, runs them as the PostgreSQL OS user
/// through runuser, because PostgreSQL refuses to run as root.
/// </summary>
public static class ProcessRunner
{
    public static Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? runAsUser, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken cancellationToken, string? workingDirectory = null)
        => RunAsync(program, arguments, runAsUser, environment, timeout, inherit: true, workingDirectory, cancellationToken);

    /// <summary>Runs a program with exactly <paramref name="environment"/> (nothing inherited from this process): to see what another process would see.</summary>
    public static Task<ProcessResult> RunInEnvironmentAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken, string? workingDirectory = null)
        => RunAsync(program, arguments, null, environment, timeout, inherit: false, workingDirectory, cancellationToken);

    private static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? runAsUser, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, bool inherit, string? workingDirectory, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        if (runAsUser is not null)
        {
            info.FileName = "runuser";
            info.ArgumentList.Add("-u");
            info.ArgumentList.Add(runAsUser);
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(program);
        }
        else
        {
            info.FileName = program;
        }

        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        if (!inherit)
        {
            info.Environment.Clear();
        }
        else
        {
            info.Environment["LC_ALL"] = "C";
        }

        // An empty value removes the variable: the child must not see an inherited one (PgConnection.LibpqEnvironment).
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            if (v.Length == 0)
            {
                info.Environment.Remove(k);
            }
            else
            {
                info.Environment[k] = v;
            }
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new LifeboatException(ErrorCode.PostgresFailed, $"cannot run {program}: {ex.Message}", $"install PostgreSQL's client and server programs (Debian: postgresql-15), or set {PgBinaries.Variable}");
        }

        using (process)
        {
            var stdout = new StringBuilder();
            var stderr = new StringBuilder();
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                cancellationToken.ThrowIfCancellationRequested();
                throw new LifeboatException(ErrorCode.PostgresFailed, $"{Path.GetFileName(program)} did not finish within {timeout.TotalSeconds:0} s");
            }

            process.WaitForExit(); // flush the output events
            return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
        }
    }
}
