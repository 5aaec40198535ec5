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
        => RunAsync(program, arguments, runAsUser, environment, timeout, inherit: true, workingDirectory, null, cancellationToken);

    /// <summary>
    /// Runs a program with <paramref name="input"/> writing its standard input (then closed). When the program exits
    /// before reading it all, the rest is not written (its exit code says why). When <paramref name="input"/> fails, the
    /// program is killed before its input is closed — so it never sees a clean end of a cut-off input (psql would commit
    /// it) — and the failure is thrown.
    /// </summary>
    public static Task<ProcessResult> RunWithInputAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, Func<Stream, CancellationToken, Task> input, TimeSpan timeout, CancellationToken cancellationToken)
        => RunAsync(program, arguments, null, environment, timeout, inherit: true, null, input, cancellationToken);

    /// <summary>Runs a program with exactly <paramref name="environment"/> (nothing inherited from this process): to see what another process would see.</summary>
    public static Task<ProcessResult> RunInEnvironmentAsync(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken, string? workingDirectory = null)
        => RunAsync(program, arguments, null, environment, timeout, inherit: false, workingDirectory, null, cancellationToken);

    private static async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, string? runAsUser, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, bool inherit, string? workingDirectory, Func<Stream, CancellationToken, Task>? input, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = input is not null,
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
            var writing = input is null ? Task.CompletedTask : WriteInputAsync(process, input, cts.Token);
            try
            {
                await process.WaitForExitAsync(cts.Token);
                await writing;
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

    private static async Task WriteInputAsync(Process process, Func<Stream, CancellationToken, Task> input, CancellationToken cancellationToken)
    {
        var stdin = process.StandardInput.BaseStream;
        try
        {
            await using var pipe = new InputPipe(stdin);
            await input(pipe, cancellationToken);
            await pipe.FlushAsync(cancellationToken);
        }
        catch (StoppedReadingException)
        {
            // The program stopped reading (it exited, e.g. psql on its first error): its exit code and output say why.
        }
        catch (Exception)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }
            catch (InvalidOperationException)
            {
            }

            throw;
        }
        finally
        {
            try
            {
                stdin.Close();
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Writing to a program's input failed: it closed it (exited). Not an error of the data written.</summary>
    private sealed class StoppedReadingException(IOException inner) : IOException(inner.Message, inner);

    /// <summary>A program's standard input, telling its write failures (<see cref="StoppedReadingException"/>) from those of the writer's own source.</summary>
    private sealed class InputPipe(Stream stdin) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await stdin.WriteAsync(buffer, cancellationToken);
            }
            catch (IOException ex)
            {
                throw new StoppedReadingException(ex);
            }
        }

        public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            try
            {
                await stdin.FlushAsync(cancellationToken);
            }
            catch (IOException ex)
            {
                throw new StoppedReadingException(ex);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
