using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lifeboat.Core;
using Lifeboat.Postgres.Wal;

namespace Lifeboat.Engine.UseCases.Wal;

/// <summary>
/// The spool of the WAL prefetcher (docs/cli.md, "WAL prefetch"): local state in
/// <c>&lt;pg_wal&gt;/lifeboat-spool/&lt;key&gt;/</c>, where <c>key</c> is the first 16 hex digits of
/// SHA-256(<c>repository id \n source \n system identifier \n from-target</c>), so that a spool left by a restore from
/// another repository, source or cluster is never looked at. pg_wal is where restore_command's %p is, so serving a file
/// is one rename on the same file system; PostgreSQL ignores a directory there (it only touches WAL file names), and
/// backups (pg_basebackup, Lifeboat's) never copy pg_wal's contents.
/// <list type="bullet">
/// <item><c>SEGMENT</c> — a complete fetched segment: written as <c>.SEGMENT.tmp</c>, fsynced, then renamed; a file by a
/// segment's name is therefore complete, and is checked again before it is served (size and page header: system
/// identifier, timeline, page address).</item>
/// <item><c>.SEGMENT.tmp</c> — being fetched; never served (a wal-fetch waits for it, briefly).</item>
/// <item><c>SEGMENT.missing</c> — the prefetcher found the segment not archived: a hint for the prefetcher only (it
/// re-checks the segment every second); wal-fetch never answers "not archived" from it.</item>
/// <item><c>want</c> — the last segment a wal-fetch restored (its modification time: the last request).</item>
/// <item><c>lock</c> — held (flock) by the one prefetcher of the spool while it runs.</item>
/// <item><c>identity</c> — what the key stands for, for people.</item>
/// </list>
/// </summary>
public sealed class WalSpool
{
    /// <summary>The spool's directory under pg_wal.</summary>
    public const string DirectoryName = "lifeboat-spool";

    private const string TempSuffix = ".tmp";
    private const string MissingSuffix = ".missing";

    private WalSpool(string directory, string pgData, string key)
    {
        Directory = directory;
        PgData = pgData;
        Key = key;
    }

    /// <summary>This spool's directory: <c>&lt;pg_wal&gt;/lifeboat-spool/&lt;key&gt;</c>.</summary>
    public string Directory { get; }

    /// <summary>The data directory being recovered.</summary>
    public string PgData { get; }

    public string Key { get; }

    public string LockPath => Path.Combine(Directory, "lock");

    private string WantPath => Path.Combine(Directory, "want");

    /// <summary>
    /// The spool for restore_command's <paramref name="destination"/> (<c>PGDATA/pg_wal/RECOVERYXLOG</c>); null when the
    /// destination is not in a pg_wal directory (wal-fetch called by hand) — then nothing is prefetched.
    /// </summary>
    public static WalSpool? For(string destination, string repositoryId, string source, ulong systemIdentifier, string? from)
    {
        var walDirectory = Path.GetDirectoryName(destination);
        if (walDirectory is null || Path.GetFileName(walDirectory) != "pg_wal" || Path.GetDirectoryName(walDirectory) is not { } pgData)
        {
            return null;
        }

        var key = KeyOf(repositoryId, source, systemIdentifier, from);
        return new WalSpool(Path.Combine(walDirectory, DirectoryName, key), pgData, key);
    }

    /// <summary>The spool in <paramref name="directory"/> (the prefetcher's argument).</summary>
    public static WalSpool At(string directory, string pgData) => new(Path.GetFullPath(directory), Path.GetFullPath(pgData), Path.GetFileName(Path.GetFullPath(directory)));

    public static string KeyOf(string repositoryId, string source, ulong systemIdentifier, string? from)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{repositoryId}\n{source}\n{systemIdentifier.ToString(CultureInfo.InvariantCulture)}\n{from}")))[..16];

    /// <summary>Removes every spool of a data directory (restore does, before PostgreSQL recovers it).</summary>
    public static void RemoveAll(string pgData)
    {
        var root = Path.Combine(pgData, "pg_wal", DirectoryName);
        if (System.IO.Directory.Exists(root))
        {
            System.IO.Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// Serves <paramref name="wal"/> from the spool into <paramref name="destination"/>: claims the file (a rename, so the
    /// prefetcher cannot remove it meanwhile), checks it, and moves it there. When the segment is being fetched, waits for
    /// it up to <paramref name="wait"/>. False when the spool does not have a sound copy (the caller fetches it itself).
    /// </summary>
    public async Task<bool> TryServeAsync(WalFileName wal, string destination, long segmentSize, ulong systemIdentifier, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var path = Path.Combine(Directory, wal.Name);
        var temp = TempPath(wal.Name);
        var started = time.GetTimestamp();
        for (var i = 1; !File.Exists(path) && File.Exists(temp) && time.GetElapsedTime(started) < wait; i++)
        {
            // A temp file of a prefetcher that died is not waited for.
            if (i % 20 == 0 && !IsLocked())
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), time, cancellationToken);
        }

        var claim = Path.Combine(Directory, $".{wal.Name}.serving.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
        try
        {
            File.Move(path, claim, overwrite: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }

        try
        {
            if (!IsSound(claim, wal, segmentSize, systemIdentifier))
            {
                return false;
            }

            // Same file system (both in pg_wal) unless %p is elsewhere; then File.Move copies.
            File.Move(claim, destination, overwrite: true);
            return true;
        }
        finally
        {
            File.Delete(claim);
        }
    }

    /// <summary>A spooled segment is served only when it has a segment's size and its first page header is that segment's.</summary>
    public static bool IsSound(string path, WalFileName wal, long segmentSize, ulong systemIdentifier)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            if (file.Length != segmentSize)
            {
                return false;
            }

            var head = new byte[WalHeader.Size];
            file.ReadExactly(head);
            var header = WalHeader.Parse(head, path);
            return header.SystemIdentifier == systemIdentifier && header.Timeline == wal.Timeline && header.SegmentSize == segmentSize
                   && header.PageAddress == wal.SegmentNumber * (ulong)segmentSize;
        }
        catch (Exception ex) when (ex is IOException or LifeboatException)
        {
            return false;
        }
    }

    /// <summary>Records the segment a wal-fetch just restored: where the prefetcher reads on from, and the time of the last request.</summary>
    public void Touch(string walName)
    {
        try
        {
            var temp = WantPath + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            File.WriteAllText(temp, walName);
            File.Move(temp, WantPath, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The spool went away (its prefetcher exited): the next wal-fetch starts another.
        }
    }

    /// <summary>The last segment restored, and when; null when none was recorded.</summary>
    public (string Name, DateTime WrittenUtc)? Want()
    {
        try
        {
            var name = File.ReadAllText(WantPath).Trim();
            return (name, File.GetLastWriteTimeUtc(WantPath));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether a prefetcher holds this spool's lock.</summary>
    public bool IsLocked()
    {
        if (!File.Exists(LockPath))
        {
            return false;
        }

        try
        {
            using var probe = new FileStream(LockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true; // not ours to run
        }
    }

    /// <summary>Takes the spool's lock (creating the spool); null when another prefetcher holds it.</summary>
    public FileStream? TryLock(string identity)
    {
        System.IO.Directory.CreateDirectory(Directory);
        try
        {
            var handle = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(Path.Combine(Directory, "identity"), identity);
            return handle;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether <paramref name="held"/> is still this spool's lock file: false when the spool was removed under the
    /// prefetcher (a restore into the same directory) — it then stops, and leaves the directory to whoever owns it now.
    /// </summary>
    public bool StillHolds(FileStream held)
    {
        try
        {
            return Lifeboat.Platform.Unix.Lstat(LockPath) is { } now && now.Inode == Lifeboat.Platform.Unix.Fstat(held.SafeFileHandle, LockPath).Inode;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public string TempPath(string walName) => Path.Combine(Directory, "." + walName + TempSuffix);

    public string MissingPath(string walName) => Path.Combine(Directory, walName + MissingSuffix);

    /// <summary>Writes a fetched segment: temp name, fsync, rename — a file by a segment's name is always complete.</summary>
    public async Task StoreAsync(string walName, byte[] content, CancellationToken cancellationToken)
    {
        var temp = TempPath(walName);
        try
        {
            await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(content, cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(Directory, walName), overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>The segments in the spool (complete files only), by name.</summary>
    public List<string> Spooled()
        => System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory).Select(Path.GetFileName).Where(n => n!.Length == 24 && n.All(char.IsAsciiHexDigitUpper)).Select(n => n!).ToList()
            : [];

    /// <summary>The "not archived" hints in the spool, by segment name.</summary>
    public List<string> Missing()
        => System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*" + MissingSuffix).Select(p => Path.GetFileName(p)[..^MissingSuffix.Length]).ToList()
            : [];

    /// <summary>Removes the other spools under the same pg_wal that no prefetcher holds (left by an earlier restore).</summary>
    public void RemoveStaleSiblings()
    {
        var root = Path.GetDirectoryName(Directory)!;
        foreach (var other in System.IO.Directory.EnumerateDirectories(root).Where(d => Path.GetFileName(d) != Key))
        {
            var spool = new WalSpool(other, PgData, Path.GetFileName(other));
            if (!spool.IsLocked())
            {
                try
                {
                    System.IO.Directory.Delete(other, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    /// <summary>Removes the spool (its prefetcher does, on exit, still holding the lock); and lifeboat-spool when empty.</summary>
    public void Remove()
    {
        try
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
            {
                File.Delete(file);
            }

            System.IO.Directory.Delete(Directory);
            var root = Path.GetDirectoryName(Directory)!;
            if (!System.IO.Directory.EnumerateFileSystemEntries(root).Any())
            {
                System.IO.Directory.Delete(root);
            }
        }
        catch (IOException)
        {
            // A wal-fetch claimed a file meanwhile, or another prefetcher started: it cleans up after itself.
        }
    }

    /// <summary>Whether recovery of <see cref="PgData"/> is over: a data directory without recovery.signal and standby.signal.</summary>
    public bool RecoveryEnded()
        => File.Exists(Path.Combine(PgData, "PG_VERSION"))
           && !File.Exists(Path.Combine(PgData, "recovery.signal"))
           && !File.Exists(Path.Combine(PgData, "standby.signal"));
}
