using System.Diagnostics;
using Lifeboat.Core;
using Lifeboat.Postgres.Tools;

namespace Lifeboat.Engine.Drills;

/// <summary>
/// The scratch directory of one drill: created private (mode 0700) under Drill:ScratchDirectory, checked for free space
/// before anything is written (statvfs through <see cref="DriveInfo"/>, never df), and removed — with the scratch server
/// stopped first — whatever happened, cancellation included.
/// </summary>
public sealed class ScratchSpace
{
    private const string Prefix = "lifeboat-drill-";
    private const string LockName = "lifeboat.lock";
    private readonly FileStream _lock;

    private ScratchSpace(string root, FileStream held)
    {
        Root = root;
        _lock = held;
    }

    public string Root { get; }

    /// <summary>Where drills create their scratch directories.</summary>
    public static string BaseDirectory(string? configured) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(configured ?? Path.GetTempPath()));

    /// <summary>Free bytes on the file system holding <paramref name="directory"/> (for the caller, not root's reserve).</summary>
    public static long FreeBytes(string directory)
    {
        Directory.CreateDirectory(directory);
        return new DriveInfo(directory).AvailableFreeSpace;
    }

    /// <summary>Creates the scratch directory, owned by <paramref name="owner"/> (the PostgreSQL OS user when running as root).</summary>
    /// <remarks>
    /// The drill holds an exclusive lock on <c>lifeboat.lock</c> inside it for its whole life: a scratch directory whose
    /// lock nobody holds was left by a drill killed outright (kill -9, a power cut), and the next drill removes it.
    /// </remarks>
    public static ScratchSpace Create(string baseDirectory, string drillId, string? owner)
    {
        var root = Path.Combine(baseDirectory, Prefix + drillId);
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var held = new FileStream(Path.Combine(root, LockName), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        PostgresCluster.ChownForServer(root, owner);
        return new ScratchSpace(root, held);
    }

    /// <summary>
    /// Removes the scratch copies of drills that no longer run (their lock is free), stopping a server still running in
    /// one. Returns what it removed.
    /// </summary>
    public static async Task<List<string>> SweepStaleAsync(string baseDirectory, PgBinaries pg, TimeProvider time)
    {
        var removed = new List<string>();
        if (!Directory.Exists(baseDirectory))
        {
            return removed;
        }

        foreach (var dir in Directory.EnumerateDirectories(baseDirectory, Prefix + "*"))
        {
            FileStream held;
            try
            {
                held = new FileStream(Path.Combine(dir, LockName), FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue; // a running drill (or not ours to judge)
            }

            var stale = new ScratchSpace(dir, held);
            var pgdata = stale.Combine("pgdata");
            var server = File.Exists(Path.Combine(pgdata, "postmaster.pid")) ? PostgresCluster.Attach(pgdata, pg.NewestServer, port: 0) : null;
            var (_, detail) = await stale.CleanUpAsync(server, time);
            removed.Add(detail);
        }

        return removed;
    }

    public string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>
    /// Stops the scratch server (pg_ctl -m immediate; SIGKILL to the postmaster and its children if it is still there)
    /// and deletes the directory. Never throws; returns what happened, for the report.
    /// </summary>
    public async Task<(bool Clean, string Detail)> CleanUpAsync(PostgresCluster? server, TimeProvider time)
    {
        var problems = new List<string>();
        var stopped = "";
        if (server is not null)
        {
            try
            {
                if (server.PostmasterPid() is not null)
                {
                    await server.StopAsync(CancellationToken.None, "immediate");
                    stopped = "scratch server stopped (immediate); ";
                }
            }
            catch (LifeboatException ex)
            {
                problems.Add("pg_ctl stop: " + ex.Message);
            }

            if (server.PostmasterPid() is { } pid)
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(wait.Token);
                    stopped = $"scratch server killed (postmaster {pid}); ";
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
                {
                    problems.Add($"postmaster {pid} could not be stopped: {ex.Message}");
                }
            }
        }

        await _lock.DisposeAsync();
        // Backends and a restore_command may still be exiting: retry the removal briefly.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Root))
                {
                    Directory.Delete(Root, recursive: true);
                }

                break;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (attempt >= 20)
                {
                    problems.Add($"{Root} could not be removed: {ex.Message}");
                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250), time, CancellationToken.None);
            }
        }

        return problems.Count == 0
            ? (true, stopped + $"{Root} removed")
            : (false, string.Join("; ", problems));
    }
}
