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

        var path = Path.Combine(stateDirectory, "locks", name + ".lock");
        string holder;
        try
        {
            holder = File.ReadAllText(path + ".holder").Trim();
        }
        catch (IOException)
        {
            holder = "another process";
        }

        throw new LifeboatException(ErrorCode.RepositoryLocked, $"'{name}' is busy: {holder}", "wait for that run to finish; two runs of one source never overlap");
    }

    public void Dispose() => _file.Dispose();
}
