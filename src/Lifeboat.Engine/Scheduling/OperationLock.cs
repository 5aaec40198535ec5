using Lifeboat.Core;

namespace Lifeboat.Engine.Scheduling;

/// <summary>
/// Keeps two runs of the same source from overlapping, whoever starts them (lifeboat serve, cron, a person): an
/// exclusive OS file lock on &lt;state dir&gt;/locks/&lt;source&gt;.lock, visible to every process on the host and released by
/// the kernel if the holder dies (so it never goes stale). The file names the holder.
/// </summary>
public sealed class OperationLock : IDisposable
{
    private readonly FileStream _file;

    private OperationLock(FileStream file) => _file = file;

    public static OperationLock? TryAcquire(string stateDirectory, string name, string operation, TimeProvider time)
    {
        var directory = Path.Combine(stateDirectory, "locks");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name + ".lock");
        FileStream file;
        try
        {
            // On Unix, FileShare.None takes an advisory flock(LOCK_EX): other processes fail to open the file.
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }

        // Who holds it goes into a separate file: the locked one cannot be read by others.
        File.WriteAllText(path + ".holder", $"{operation} pid {Environment.ProcessId} on {Environment.MachineName} since {time.GetUtcNow():O}\n");
        return new OperationLock(file);
    }

    /// <summary>Acquires the lock or throws naming the holder.</summary>
    public static OperationLock Acquire(string stateDirectory, string name, string operation, TimeProvider time)
    {
        var held = TryAcquire(stateDirectory, name, operation, time);
        if (held is not null)
        {
            return held;
        }

        throw Busy(name, ReadHolder(stateDirectory, name));
    }

    /// <summary>
    /// Who holds the lock now ("backup by cli alice pid 12 on host since …"), or null when it is free. Cheap (one open
    /// of the lock file, which is left unlocked): for refusing a job at submission time; the job still acquires it.
    /// </summary>
    public static string? Holder(string stateDirectory, string name)
    {
        var path = Path.Combine(stateDirectory, "locks", name + ".lock");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return null;
        }
        catch (IOException)
        {
            return ReadHolder(stateDirectory, name);
        }
    }

    /// <summary>The error of a lock another holder has: <see cref="ErrorCode.RepositoryLocked"/>, naming the holder and since when.</summary>
    public static LifeboatException Busy(string name, string holder)
        => new(ErrorCode.RepositoryLocked, $"'{name}' is busy: {holder}", "wait for that run to finish; two runs of one source never overlap");

    private static string ReadHolder(string stateDirectory, string name)
    {
        try
        {
            return File.ReadAllText(Path.Combine(stateDirectory, "locks", name + ".lock.holder")).Trim();
        }
        catch (IOException)
        {
            return "another process";
        }
    }

    public void Dispose() => _file.Dispose();
}
