using Lifeboat.Cli;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Testing;

/// <summary>The result of one `lifeboat` invocation.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string All => Out + Error;

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs `lifeboat` in-process with its own working directory and environment (nothing leaks from the test process),
/// so command-line tests are fast and see exactly what a user sees. One exception: the test machine's
/// LIFEBOAT_PG_BINDIR (which PostgreSQL the tests' clusters use, <see cref="PgBinaries.Process"/>) is passed on
/// unless the test's environment sets it, so the commands run the same PostgreSQL programs as the fixtures.
/// </summary>
public sealed class CliRunner
{
    public CliRunner(string workingDirectory, IDictionary<string, string?>? environment = null)
    {
        WorkingDirectory = workingDirectory;
        Environment = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>(), StringComparer.Ordinal);
        if (PgBinaries.Process.Override is { } binDir)
        {
            Environment.TryAdd(PgBinaries.Variable, binDir);
        }
    }

    public string WorkingDirectory { get; }

    public Dictionary<string, string?> Environment { get; }

    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Runs with the current test's cancellation token.</summary>
    public async Task<CliResult> RunAsync(params string[] args) => await RunCancellableAsync(args, TestContext.Current.CancellationToken);

    public async Task<CliResult> RunCancellableAsync(string[] args, CancellationToken cancellationToken)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(new CliEnvironment
        {
            Out = TextWriter.Synchronized(stdout),
            Error = TextWriter.Synchronized(stderr),
            Variables = Environment,
            WorkingDirectory = WorkingDirectory,
            Time = Time,
            IsErrorTerminal = false,
        });
        var code = await app.RunAsync(args, cancellationToken);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs and asserts exit code 0.</summary>
    public async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"lifeboat {string.Join(' ', args)} failed:\n{result}");
        return result;
    }
}
