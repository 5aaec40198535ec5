using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Lifeboat.Platform;

namespace Lifeboat.Targets.Local;

/// <summary>
/// A directory on this machine. Saves are atomic and durable: temp file in the destination directory,
/// write, fsync, rename (or link for <see cref="SaveMode.Create"/>, which fails if the name exists), fsync the directory.
/// What it creates is private: objects 0600 and directories 0700 (0640 and 0750 with <c>groupReadable</c>), whatever
/// the umask and the mode of the root; run as root, it gives them the root directory's owner, so that the user who owns
/// the repository (the PostgreSQL OS user for archive_command) can still read and write them.
/// </summary>
public sealed class LocalTarget : ITarget
{
    private const string TempMarker = ".tmp-";
    private readonly string _root;
    private FileStat? _owner;
    private bool _ownerKnown;

    /// <param name="root">The directory (absolute).</param>
    /// <param name="groupReadable">Let the group read objects and list directories (0640/0750 instead of 0600/0700).</param>
    public LocalTarget(string root, bool groupReadable = false)
    {
        ObjectMode = groupReadable ? PrivateFile | UnixFileMode.GroupRead : PrivateFile;
        DirectoryMode = groupReadable ? PrivateDirectory | UnixFileMode.GroupRead | UnixFileMode.GroupExecute : PrivateDirectory;
        // Without a trailing separator: "/srv/repo/" would name objects "file:///srv/repo//config" and make every spooled
        // file look outside the root, so that SaveFileAsync copied it instead of renaming it.
        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        DisplayName = "file://" + _root;
        Capabilities = new TargetCapabilities(AtomicCreate: true, DefaultConcurrency: 4, IsLocal: true, SpoolDirectory: Path.Combine(_root, SpoolDirectoryName));
    }

    /// <summary>Writers stage packs in this directory below the root, so that saving them is a rename (ignored by readers).</summary>
    public const string SpoolDirectoryName = "tmp";

    /// <summary>Creates <see cref="TargetCapabilities.SpoolDirectory"/> when missing, with the mode and owner of this target's directories.</summary>
    public void CreateSpoolDirectory()
    {
        try
        {
            EnsureDirectory(Capabilities.SpoolDirectory!);
        }
        catch (Exception ex) when (ex is not TargetException)
        {
            throw Classify(ex, SpoolDirectoryName, "create");
        }
    }

    /// <summary>The mode of objects by default: the owner's only.</summary>
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>The mode of directories by default: the owner's only.</summary>
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>The mode of the objects this target writes.</summary>
    public UnixFileMode ObjectMode { get; }

    /// <summary>The mode of the directories this target creates.</summary>
    public UnixFileMode DirectoryMode { get; }

    public string DisplayName { get; }

    public string Root => _root;

    public TargetCapabilities Capabilities { get; }

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var directory = Path.GetDirectoryName(path)!;
        var temp = path + TempMarker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            EnsureDirectory(directory);
            var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = ObjectMode;
            }

            await using (var output = new FileStream(temp, options))
            {
                SetOwner(temp);
                await using var input = content.OpenRead();
                await input.CopyToAsync(output, 1 << 20, cancellationToken);
                await output.FlushAsync(cancellationToken);
                FaultHook.Before("fsync");
                output.Flush(flushToDisk: true);
            }

            FaultHook.Before("rename");
            if (mode == SaveMode.Create)
            {
                // On Unix, File.Move without overwrite uses link()+unlink(): atomic, fails when the name exists.
                File.Move(temp, path, overwrite: false);
            }
            else
            {
                File.Move(temp, path, overwrite: true);
            }

            FaultHook.Before("fsync");
            Posix.FsyncDirectory(directory);
        }
        catch (IOException) when (mode == SaveMode.Create && File.Exists(path))
        {
            TryDelete(temp);
            throw new TargetException(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists");
        }
        catch (Exception ex)
        {
            // Whatever failed (the disk, the source, a cancellation), the temp file must not stay behind. A source may
            // itself throw a TargetException (a transient one when it streams from another target): pass it on as it is.
            TryDelete(temp);
            if (ex is TargetException)
            {
                throw;
            }

            throw Classify(ex, name, "write");
        }
    }

    public async Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
    {
        var destination = PathOf(name);
        var directory = Path.GetDirectoryName(destination)!;
        if (!Path.GetFullPath(path).StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            // Not below the root, maybe another file system: copy (with fsync) instead of moving.
            await SaveAsync(name, ObjectSource.FromFile(path), mode, cancellationToken);
            return;
        }

        try
        {
            EnsureDirectory(directory);
            // The file must be durable, and have an object's mode and owner, before it gets its final name.
            using (var handle = File.OpenHandle(path, System.IO.FileMode.Open, FileAccess.ReadWrite))
            {
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(handle, ObjectMode);
                }

                FaultHook.Before("fsync");
                RandomAccess.FlushToDisk(handle);
            }

            SetOwner(path);

            FaultHook.Before("rename");
            File.Move(path, destination, overwrite: mode == SaveMode.Replace);
            FaultHook.Before("fsync");
            Posix.FsyncDirectory(directory);
        }
        catch (IOException) when (mode == SaveMode.Create && File.Exists(destination))
        {
            throw new TargetException(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists");
        }
        catch (Exception ex) when (ex is not TargetException)
        {
            throw Classify(ex, name, "write");
        }
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            file = new FileStream(PathOf(name), System.IO.FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.Asynchronous);
        }
        catch (UnauthorizedAccessException ex) when (Directory.Exists(PathOf(name)))
        {
            // Opening a directory is "access denied", but "data/ab" is only a prefix of objects, not an object, as on
            // every other target.
            throw new TargetException(TargetErrorKind.NotFound, $"{Describe(name)} does not exist", inner: ex);
        }
        catch (Exception ex)
        {
            throw Classify(ex, name, "read");
        }

        await using (file)
        {
            try
            {
                if (offset > 0)
                {
                    file.Seek(offset, SeekOrigin.Begin);
                }

                if (length >= 0 && offset + length > file.Length)
                {
                    throw new TargetException(TargetErrorKind.Other, $"{Describe(name)} is {file.Length} bytes, cannot read {length} bytes at offset {offset}", isTransient: false);
                }

                Stream stream = length >= 0 ? new SubStream(file, length) : file;
                await consumer(stream, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Classify(ex, name, "read");
            }
        }
    }

    public Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var info = new FileInfo(PathOf(name));
            return Task.FromResult(info.Exists ? new ObjectInfo(name, info.Length) { Modified = info.LastWriteTimeUtc } : null);
        }
        catch (Exception ex)
        {
            throw Classify(ex, name, "stat");
        }
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // List the deepest directory the prefix names, then filter by the rest of the prefix.
        var slash = prefix.LastIndexOf('/');
        var dirName = slash >= 0 ? prefix[..slash] : "";
        var directory = dirName.Length == 0 ? _root : PathOf(dirName);
        if (!Directory.Exists(directory))
        {
            if (!Directory.Exists(_root))
            {
                throw new TargetException(TargetErrorKind.NotFound, $"{DisplayName} does not exist");
            }

            yield break;
        }

        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        IEnumerable<FileInfo> files;
        try
        {
            files = new DirectoryInfo(directory).EnumerateFiles("*", options);
        }
        catch (Exception ex)
        {
            throw Classify(ex, prefix, "list");
        }

        using var enumerator = files.GetEnumerator();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            FileInfo file;
            try
            {
                if (!enumerator.MoveNext())
                {
                    break;
                }

                file = enumerator.Current;
            }
            catch (Exception ex)
            {
                throw Classify(ex, prefix, "list");
            }

            if (file.Name.Contains(TempMarker, StringComparison.Ordinal))
            {
                continue;
            }

            var name = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                long size;
                DateTimeOffset modified;
                try
                {
                    size = file.Length;
                    modified = file.LastWriteTimeUtc;
                }
                catch (FileNotFoundException)
                {
                    continue; // deleted while listing
                }

                yield return new ObjectInfo(name, size) { Modified = modified };
            }
        }

        await Task.CompletedTask;
    }

    public Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            FaultHook.Before("unlink");
            File.Delete(PathOf(name));
            return Task.CompletedTask;
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask;
        }
        catch (UnauthorizedAccessException) when (Directory.Exists(PathOf(name)))
        {
            // A directory is not an object: there is no object of that name to delete.
            return Task.CompletedTask;
        }
        catch (Exception ex)
        {
            throw Classify(ex, name, "delete");
        }
    }

    /// <summary>Removes temp files older than <paramref name="olderThan"/> left by interrupted writers.</summary>
    public int RemoveStaleTempFiles(DateTimeOffset olderThan)
    {
        if (!Directory.Exists(_root))
        {
            return 0;
        }

        var removed = 0;
        foreach (var file in new DirectoryInfo(_root).EnumerateFiles("*" + TempMarker + "*", new EnumerationOptions { RecurseSubdirectories = true }))
        {
            if (file.LastWriteTimeUtc < olderThan.UtcDateTime)
            {
                TryDelete(file.FullName);
                removed++;
            }
        }

        return removed;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string PathOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\'))
        {
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        }

        return Path.Combine(_root, name.Replace('/', Path.DirectorySeparatorChar));
    }

    private void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (!Directory.Exists(_root))
        {
            throw new TargetException(TargetErrorKind.NotFound, $"{DisplayName} does not exist", hint: "create the directory or check the repository URL");
        }

        // Each missing directory from the top down, with this target's mode and owner, its entry made durable.
        var missing = new Stack<string>();
        for (var d = directory; d is not null && d.Length > _root.Length && !Directory.Exists(d); d = Path.GetDirectoryName(d))
        {
            missing.Push(d);
        }

        foreach (var d in missing)
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(d);
            }
            else
            {
                // Another writer may create it at the same moment: CreateDirectory succeeds on an existing directory.
                Directory.CreateDirectory(d, DirectoryMode);
                SetOwner(d);
            }

            Posix.FsyncDirectory(Path.GetDirectoryName(d)!);
        }
    }

    /// <summary>
    /// Run as root in a root directory another user owns (the PostgreSQL OS user's, install.md), gives a new entry that
    /// owner: wal-push and wal-fetch run as that user and must read the config and key slots and write into directories
    /// root created.
    /// </summary>
    private void SetOwner(string path)
    {
        if (!_ownerKnown)
        {
            _owner = Unix.IsRoot && Unix.Lstat(_root) is { } root && (root.Uid != 0 || root.Gid != 0) ? root : null;
            _ownerKnown = true;
        }

        if (_owner is { } owner)
        {
            Unix.Lchown(path, owner.Uid, owner.Gid);
        }
    }

    private string Describe(string name) => $"{DisplayName}/{name}";

    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        return ex switch
        {
            TargetException t => t,
            FileNotFoundException or DirectoryNotFoundException => new TargetException(TargetErrorKind.NotFound, $"{Describe(name)} does not exist", inner: ex),
            UnauthorizedAccessException => new TargetException(
                TargetErrorKind.AccessDenied,
                $"permission denied: OS user '{Environment.UserName}' cannot {operation} {Path.Combine(_root, name)}",
                hint: $"let '{Environment.UserName}' {operation} it (chown or chmod the repository's directories: archive_command writes the WAL as the PostgreSQL OS user), or run lifeboat as a user that may",
                inner: ex),
            IOException io when TargetException.IsNoSpace(io) => new TargetException(TargetErrorKind.NoSpace, $"{what}: no space left on the device", inner: ex),
            IOException io => new TargetException(TargetErrorKind.Other, $"{what}: {io.Message}", isTransient: false, inner: ex),
            OperationCanceledException => throw ex,
            _ => new TargetException(TargetErrorKind.Other, $"{what}: {ex.Message}", isTransient: false, inner: ex),
        };
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
