using System.Globalization;

namespace Lifeboat.Repository.Locks;

/// <summary>
/// What identifies a process on this machine beyond its id, read from Linux's /proc: the boot it runs in
/// (<c>/proc/sys/kernel/random/boot_id</c>), its PID namespace (<c>/proc/self/ns/pid</c>, so that a container with the
/// same host name is not taken for this one) and its start time in clock ticks since boot (field 22 of
/// <c>/proc/&lt;pid&gt;/stat</c>), which tells a reused process id from the process that took a lock.
/// </summary>
public sealed record LocalProcess(string BootId, string PidNamespace, long StartTicks)
{
    /// <summary>This process, or null where /proc does not say (not Linux).</summary>
    public static LocalProcess? Current()
    {
        var boot = BootId_();
        var ns = PidNamespace_();
        var start = StartTicksOf(Environment.ProcessId);
        return boot is null || ns is null || start is null ? null : new LocalProcess(boot, ns, start.Value);
    }

    /// <summary>The start time of a process of this PID namespace in clock ticks since boot; null when no such process runs.</summary>
    public static long? StartTicksOf(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so the fields are counted after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); starttime is field 22.
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    private static string? BootId_()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? PidNamespace_()
    {
        try
        {
            return new FileInfo("/proc/self/ns/pid").LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
