using System.Globalization;
using System.Runtime.InteropServices;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// Keeps a drill from competing with production on the same host: the scratch server runs under
/// <c>nice -n 10 ionice -c 3</c> (each only when installed), and the drill process lowers its own threads to nice 10
/// and the idle I/O class. Linux keeps both per thread, and new threads inherit them from the thread that creates them.
/// </summary>
public static partial class LowPriority
{
    public const int Nice = 10;
    private const int PrioProcess = 0;
    private const int IoprioWhoProcess = 1;
    private const int IoprioClassIdle = 3;

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, uint who, int prio);

    [LibraryImport("libc", EntryPoint = "getpriority", SetLastError = true)]
    private static partial int GetPriority(int which, uint who);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a1, long a2, long a3);

    /// <summary>The programs pg_ctl runs under, and how the report describes them.</summary>
    public static (IReadOnlyList<string> Wrapper, string Description) ServerWrapper(bool enabled)
    {
        if (!enabled)
        {
            return ([], "normal (Drill:LowPriority is off)");
        }

        var wrapper = new List<string>();
        var parts = new List<string>();
        if (Which("nice") is { } nice)
        {
            wrapper.AddRange([nice, "-n", Nice.ToString(CultureInfo.InvariantCulture)]);
            parts.Add($"nice -n {Nice}");
        }
        else
        {
            parts.Add("nice not found: normal CPU priority");
        }

        if (Which("ionice") is { } ionice)
        {
            wrapper.AddRange([ionice, "-c", "3"]);
            parts.Add("ionice -c 3 (idle I/O class)");
        }
        else
        {
            parts.Add("ionice not found: normal I/O priority");
        }

        return (wrapper, "scratch server: " + string.Join(", ", parts));
    }

    /// <summary>Lowers every thread of this process to nice 10 and the idle I/O class; never raises a priority. Returns what it did.</summary>
    public static string LowerCurrentProcess()
    {
        long? ioprioSet = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 251,
            Architecture.Arm64 => 30,
            _ => null,
        };
        int lowered = 0, failed = 0;
        IEnumerable<string> threads;
        try
        {
            threads = Directory.EnumerateDirectories("/proc/self/task").ToList();
        }
        catch (IOException)
        {
            return "this process: unchanged (/proc/self/task is not readable)";
        }

        foreach (var dir in threads)
        {
            if (!uint.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
            {
                continue;
            }

            Marshal.SetLastPInvokeError(0);
            var current = GetPriority(PrioProcess, tid);
            var ok = (current == -1 && Marshal.GetLastPInvokeError() != 0) || current >= Nice || SetPriority(PrioProcess, tid, Nice) == 0;
            if (ioprioSet is { } number)
            {
                ok &= Syscall(number, IoprioWhoProcess, tid, IoprioClassIdle << 13) == 0;
            }

            if (ok)
            {
                lowered++;
            }
            else
            {
                failed++;
            }
        }

        return $"drill process: nice {Nice}{(ioprioSet is null ? "" : ", idle I/O class")} ({lowered} thread(s){(failed > 0 ? $", {failed} could not be changed" : "")})";
    }

    /// <summary>The absolute path of a program on PATH (or in /usr/bin, /bin), or null.</summary>
    public static string? Which(string program)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/bin", "/bin"]);
        return dirs.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }
}
