using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Lifeboat.Core;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Sftp;

namespace Lifeboat.Targets.Sftp;

/// <summary>
/// A directory on an SFTP server (SSH.NET). The host key is checked against a known_hosts file or a pinned fingerprint
/// before anything is sent (<see cref="HostKeyCheck"/>); a mismatch is refused, naming both fingerprints.
/// </summary>
/// <remarks>
/// <para>
/// A save uploads to a temporary name in the destination directory (<c>NAME.tmp-RANDOM</c>, which readers ignore), then
/// renames it into place; directories are created as needed. <see cref="SaveMode.Replace"/> renames with
/// <c>posix-rename@openssh.com</c> (atomic replace). <see cref="SaveMode.Create"/> renames with the plain SFTP rename
/// (SSH_FXP_RENAME), which the SFTP protocol defines to fail when the new name exists; OpenSSH's server implements it as
/// link() and unlink() (atomic; on file systems without hard links it falls back to a check and a rename). A failed or
/// cancelled save deletes its temporary file.
/// </para>
/// <para>
/// Durability: SSH.NET does not expose the <c>fsync@openssh.com</c> extension, so the data is as durable as the server's
/// close() makes it (OpenSSH does not fsync): after a power loss of the server, the last seconds of writes may be lost.
/// <c>lifeboat verify</c> finds such objects.
/// </para>
/// <para>Operations run on a small pool of connections (<see cref="TargetCapabilities.DefaultConcurrency"/>). Thread-safe.</para>
/// </remarks>
public sealed partial class SftpTarget : ITarget
{
    private const string TempMarker = ".tmp-";
    private const int PoolSize = 4;

    private readonly SftpLocation _location;
    private readonly SftpSecrets _secrets;
    private readonly SftpConnectionPool _pool;
    private readonly ConcurrentDictionary<string, bool> _knownDirectories = new(StringComparer.Ordinal);

    public SftpTarget(SftpLocation location, SftpSecrets secrets)
    {
        _location = location;
        _secrets = secrets;
        DisplayName = location.DisplayName;
        if (location.KeyFile is null && secrets.Password is null)
        {
            throw new LifeboatException(
                ErrorCode.Config,
                $"{DisplayName} has no credentials",
                "add &key=/path/to/private/key to the URL, or set LIFEBOAT_SFTP_PASSWORD");
        }

        _pool = new SftpConnectionPool(PoolSize, ConnectAsync);
    }

    public string DisplayName { get; }

    public TargetCapabilities Capabilities { get; } = new(AtomicCreate: true, DefaultConcurrency: PoolSize, IsLocal: false);

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => SaveAsync(name, ObjectSource.ForUpload(path, Describe(name)), mode, cancellationToken);

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(name);
        var directory = path[..path.LastIndexOf('/')];
        await RunAsync(
            name,
            "write",
            async client =>
            {
                try
                {
                    await UploadAsync(client, name, content, mode, cancellationToken);
                }
                catch (SftpPathNotFoundException) when (_knownDirectories.TryRemove(directory, out _))
                {
                    // The directory was there earlier in this process and is gone (removed by another process): again.
                    await UploadAsync(client, name, content, mode, cancellationToken);
                }
            },
            cancellationToken);
    }

    /// <summary>Uploads to a temporary name in the destination directory, then renames it into place.</summary>
    private async Task UploadAsync(SftpClient client, string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        var directory = path[..path.LastIndexOf('/')];
        var temp = path + TempMarker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        await EnsureDirectoryAsync(client, directory, cancellationToken);
        try
        {
            await using (var input = ContentStream.Open(content, Describe(name)))
            {
                await client.UploadFileAsync(input, temp, false, null, cancellationToken);
            }

            if (mode == SaveMode.Replace)
            {
                await Task.Run(() => ReplaceWith(client, temp, path), cancellationToken);
            }
            else
            {
                await CreateWithAsync(client, temp, path, name, cancellationToken);
            }
        }
        catch (Exception ex)
        {
            // Whatever failed (the server, the source, a cancellation), the temp file must not stay behind.
            await DeleteQuietlyAsync(client, temp);
            if (ex is SshException and not SftpPathNotFoundException and not SftpPermissionDeniedException && IsNoSpace(client, directory, content.Length))
            {
                throw new TargetException(TargetErrorKind.NoSpace, $"cannot write {Describe(name)}: the server has less than {content.Length} bytes free", inner: ex);
            }

            throw;
        }
    }

    private static void ReplaceWith(SftpClient client, string temp, string path)
    {
        try
        {
            client.RenameFile(temp, path, isPosix: true);
        }
        catch (NotSupportedException)
        {
            // A server without posix-rename@openssh.com: the plain rename refuses an existing name. Not atomic: a reader
            // may find no object between the two steps (never a partial one).
            if (client.Exists(path))
            {
                client.DeleteFile(path);
            }

            client.RenameFile(temp, path);
        }
    }

    private async Task CreateWithAsync(SftpClient client, string temp, string path, string name, CancellationToken cancellationToken)
    {
        try
        {
            // SSH_FXP_RENAME fails when the new name exists (OpenSSH: link + unlink).
            await client.RenameFileAsync(temp, path, cancellationToken);
        }
        catch (SshException ex) when (ex is not SftpPermissionDeniedException)
        {
            if (await ExistsAsFileAsync(client, path, cancellationToken))
            {
                throw new TargetException(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists", inner: ex);
            }

            throw;
        }
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathOf(name);
        await RunAsync(
            name,
            "read",
            async client =>
            {
                var attributes = await AttributesAsync(client, path, cancellationToken);
                if (attributes is null || !attributes.IsRegularFile)
                {
                    throw NotFound(name);
                }

                var size = attributes.Size;
                if (offset > size || (length >= 0 && offset + length > size))
                {
                    throw UploadChecks.PastTheEnd(Describe(name), size, offset, length);
                }

                var expected = length >= 0 ? length : size - offset;
                await using var file = await client.OpenAsync(path, FileMode.Open, FileAccess.Read, cancellationToken);
                if (offset > 0)
                {
                    file.Seek(offset, SeekOrigin.Begin);
                }

                await using var body = new DownloadStream(new SubStream(file, expected), expected, Describe(name));
                await consumer(body, cancellationToken);
            },
            cancellationToken);
    }

    public async Task<ObjectInfo?> StatAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(name);
        return await RunAsync(
            name,
            "stat",
            async client =>
            {
                var attributes = await AttributesAsync(client, path, cancellationToken);
                return attributes is { IsRegularFile: true } ? new ObjectInfo(name, attributes.Size) { Modified = attributes.LastWriteTimeUtc } : null;
            },
            cancellationToken);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Walk the deepest directory the prefix names; the listing is read whole so that no connection is held while the
        // caller works through it.
        var slash = prefix.LastIndexOf('/');
        var start = slash >= 0 ? prefix[..slash] : "";
        var found = await RunAsync(
            prefix,
            "list",
            async client =>
            {
                var result = new List<ObjectInfo>();
                var pending = new Stack<string>();
                pending.Push(start);
                while (pending.TryPop(out var relative))
                {
                    var directory = relative.Length == 0 ? _location.Path : $"{_location.Path}/{relative}";
                    List<ISftpFile> entries;
                    try
                    {
                        entries = [];
                        await foreach (var entry in client.ListDirectoryAsync(directory, cancellationToken))
                        {
                            entries.Add(entry);
                        }
                    }
                    catch (SftpPathNotFoundException)
                    {
                        continue; // nothing was ever written below it (or the root does not exist yet)
                    }

                    foreach (var entry in entries)
                    {
                        if (entry.Name is "." or "..")
                        {
                            continue;
                        }

                        var name = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
                        if (entry.IsDirectory)
                        {
                            if (name.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(name + "/", StringComparison.Ordinal))
                            {
                                pending.Push(name);
                            }
                        }
                        else if (entry.IsRegularFile && name.StartsWith(prefix, StringComparison.Ordinal) && !entry.Name.Contains(TempMarker, StringComparison.Ordinal))
                        {
                            result.Add(new ObjectInfo(name, entry.Length) { Modified = entry.LastWriteTimeUtc });
                        }
                    }
                }

                return result;
            },
            cancellationToken);
        foreach (var item in found)
        {
            yield return item;
        }
    }

    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        var path = PathOf(name);
        await RunAsync(
            name,
            "delete",
            async client =>
            {
                try
                {
                    await client.DeleteFileAsync(path, cancellationToken);
                }
                catch (SftpPathNotFoundException)
                {
                    // Deleting a missing object succeeds.
                }
                catch (SshException)
                {
                    // A directory is only the prefix of objects, not an object: there is nothing of that name to delete.
                    if ((await AttributesAsync(client, path, cancellationToken))?.IsDirectory != true)
                    {
                        throw;
                    }
                }
            },
            cancellationToken);
    }

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    private async Task EnsureDirectoryAsync(SftpClient client, string directory, CancellationToken cancellationToken)
    {
        if (_knownDirectories.ContainsKey(directory))
        {
            return;
        }

        if ((await AttributesAsync(client, directory, cancellationToken))?.IsDirectory != true)
        {
            // mkdir -p from the top: the repository's root may not exist yet either.
            var path = "";
            foreach (var part in directory.Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                path += "/" + part;
                try
                {
                    await client.CreateDirectoryAsync(path, cancellationToken);
                }
                catch (SshException)
                {
                    // It may exist (made earlier, or by a concurrent writer).
                    if ((await AttributesAsync(client, path, cancellationToken))?.IsDirectory != true)
                    {
                        throw;
                    }
                }
            }
        }

        _knownDirectories.TryAdd(directory, true);
    }

    private static async Task<SftpFileAttributes?> AttributesAsync(SftpClient client, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetAttributesAsync(path, cancellationToken);
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
    }

    private static async Task<bool> ExistsAsFileAsync(SftpClient client, string path, CancellationToken cancellationToken)
        => (await AttributesAsync(client, path, cancellationToken))?.IsRegularFile == true;

    private static async Task DeleteQuietlyAsync(SftpClient client, string path)
    {
        if (!client.IsConnected)
        {
            return;
        }

        // Bounded: the connection may be what failed.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await client.DeleteFileAsync(path, timeout.Token);
        }
        catch (Exception ex) when (ex is SshException or SocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // Best effort: a temp file is invisible to readers, and prune removes old ones.
        }
    }

    /// <summary>Whether the file system of <paramref name="directory"/> has less than <paramref name="needed"/> bytes free (statvfs@openssh.com).</summary>
    private static bool IsNoSpace(SftpClient client, string directory, long needed)
    {
        try
        {
            return client.IsConnected && client.GetStatus(directory) is { } status && (long)status.AvailableBlocks * (long)status.BlockSize < needed;
        }
        catch (Exception ex) when (ex is SshException or NotSupportedException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    private string PathOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\'))
        {
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        }

        return $"{_location.Path}/{name}";
    }

    private string Describe(string name) => $"{DisplayName}/{name}";

    private TargetException NotFound(string name, Exception? inner = null) => new(TargetErrorKind.NotFound, $"{Describe(name)} does not exist", inner: inner);
}
