namespace Lifeboat.Catalog;

/// <summary>
/// The SQLite catalog file is its owner's only (mode 0600): it holds the run history, the audit log and API token
/// hashes. SQLite gives its -wal and -shm files the database file's mode (and, as root, its owner), so the file is
/// created before SQLite opens it.
/// </summary>
public static class CatalogFile
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode GroupOrOthers = (UnixFileMode)0b000_111_111;

    /// <summary>Creates an empty catalog file, mode 0600, when there is none; true when it did.</summary>
    public static bool Create(string path)
    {
        if (File.Exists(path))
        {
            return false;
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = Private;
        }

        try
        {
            using var file = new FileStream(path, options);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false; // another process created it first
        }
    }

    /// <summary>
    /// Creates the file (0600) when missing, and takes group and other users' access away from an existing one and its
    /// -wal/-shm files (written by an older version with the umask's 0644). A file of another user is left as it is.
    /// </summary>
    public static void MakePrivate(string path)
    {
        if (OperatingSystem.IsWindows() || Create(path))
        {
            return;
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm" })
        {
            try
            {
                if (File.Exists(file) && (File.GetUnixFileMode(file) & GroupOrOthers) != 0)
                {
                    File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~GroupOrOthers);
                }
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                // Not ours (EPERM), or gone meanwhile: opening it says what matters.
            }
        }
    }
}
