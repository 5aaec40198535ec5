using System.Diagnostics;
using System.Globalization;

namespace Lifeboat.Targets.Local;

/// <summary>
/// A test-only seam for the fault matrix (issue 19, docs/reliability.md): with the environment variable
/// <c>LIFEBOAT_FAULT_KILL_AT=&lt;op&gt;:&lt;n&gt;</c> (op: <c>rename</c>, <c>unlink</c> or <c>fsync</c>) the process kills
/// itself with SIGKILL just before its n-th such call on a local target (counted from 1 over the whole process:
/// <c>rename</c> is an object getting its final name, <c>unlink</c> an object deleted, <c>fsync</c> a file or directory
/// synced). The process then ends with exit status 137 (killed by signal 9) without a word, as a crash would; a run that
/// never reaches the n-th call ends normally, which is how a test finds the number of points of an operation. Unset (always, outside the tests), it is inert: the variable is read once
/// and every call is a comparison with null.
/// </summary>
public static class FaultHook
{
    /// <summary>The environment variable.</summary>
    public const string Variable = "LIFEBOAT_FAULT_KILL_AT";

    private static readonly (string Operation, int Count)? Point = Parse(Environment.GetEnvironmentVariable(Variable));
    private static int _calls;

    /// <summary>Called just before a rename, unlink or fsync; kills the process at the configured one.</summary>
    public static void Before(string operation)
    {
        if (Point is not { } point || point.Operation != operation)
        {
            return;
        }

        var n = Interlocked.Increment(ref _calls);
        if (n != point.Count)
        {
            return;
        }

        Process.GetCurrentProcess().Kill(); // SIGKILL on Unix: no finally block, no flush, no lock release
    }

    private static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var parts = value.Split(':');
        if (parts.Length != 2 || parts[0] is not ("rename" or "unlink" or "fsync")
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            throw new InvalidOperationException($"{Variable}='{value}' is not rename:N, unlink:N or fsync:N (N from 1)");
        }

        return (parts[0], count);
    }
}
