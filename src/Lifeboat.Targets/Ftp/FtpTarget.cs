using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Lifeboat.Core;

namespace Lifeboat.Targets.Ftp;

/// <summary>
/// A directory on an FTP server: FTPS with explicit TLS (<c>ftps://</c>), or plain FTP only when the URL says
/// <c>insecure=true</c>. A small client of Lifeboat's own (<see cref="FtpConnection"/>) over TcpClient and SslStream, not
/// .NET's obsolete FtpWebRequest: that one opens a connection per request, cannot resume the control connection's TLS
/// session on the data connections (vsftpd's default require_ssl_reuse=YES refuses it), and has no cancellation.
/// </summary>
/// <remarks>
/// <para>
/// A save uploads to a temporary name in the destination directory (<c>NAME.tmp-RANDOM</c>, which listings skip), then
/// renames it into place (RNFR/RNTO); directories are created as needed (MKD). FTP has no rename that refuses an
/// existing name: <see cref="SaveMode.Create"/> checks the name (SIZE) before the upload and again before the rename,
/// which is not atomic, and <see cref="TargetCapabilities.AtomicCreate"/> says so. A failed or cancelled save deletes
/// its temporary file.
/// </para>
/// <para>
/// Reads use SIZE, then REST and RETR for a range, closing the data connection once the range is read. Listings use
/// MLSD where the server has it (exact UTC times), else LIST (vsftpd), whose times are to the minute and read as UTC
/// (vsftpd's default, use_localtime=NO). Durability is the server's close(): FTP servers do not fsync.
/// </para>
/// <para>Operations run on a small pool of control connections (<see cref="TargetCapabilities.DefaultConcurrency"/>). Thread-safe.</para>
/// </remarks>
public sealed class FtpTarget : ITarget
{
    private const string TempMarker = ".tmp-";
    private const int PoolSize = 4;

    private readonly FtpLocation _location;
    private readonly string _password;
    private readonly FtpConnectionPool _pool;
    private readonly ConcurrentDictionary<string, bool> _knownDirectories = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public FtpTarget(FtpLocation location, FtpSecrets secrets, TimeProvider? time = null)
    {
        _location = location;
        _time = time ?? TimeProvider.System;
        DisplayName = location.DisplayName;
        var anonymous = location.User is "anonymous" or "ftp";
        if (secrets.Password is null && !anonymous)
        {
            throw new LifeboatException(ErrorCode.Config, $"{DisplayName} has no password", "set LIFEBOAT_FTP_PASSWORD");
        }

        _password = secrets.Password ?? "lifeboat@";
        _pool = new FtpConnectionPool(PoolSize, ConnectAsync);
    }

    public string DisplayName { get; }

    public TargetCapabilities Capabilities { get; } = new(AtomicCreate: false, DefaultConcurrency: PoolSize, IsLocal: false);

    public Task SaveFileAsync(string name, string path, SaveMode mode, CancellationToken cancellationToken)
        => SaveAsync(name, ObjectSource.ForUpload(path, Describe(name)), mode, cancellationToken);

    public async Task SaveAsync(string name, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = PathOf(name);
        var temp = path + TempMarker + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        try
        {
            await RunAsync(name, "write", connection => UploadAsync(connection, name, path, temp, content, mode, cancellationToken), cancellationToken);
        }
        catch (Exception ex) when (ex is not TargetException { Kind: TargetErrorKind.AlreadyExists })
        {
            // Whatever failed (the server, the source, a cancellation), the temp file must not stay behind. On a connection
            // of its own, after the failed one went back to the pool (or was closed).
            await DeleteQuietlyAsync(temp);
            throw;
        }
    }

    private async Task<bool> UploadAsync(FtpConnection connection, string name, string path, string temp, ObjectSource content, SaveMode mode, CancellationToken cancellationToken)
    {
        if (mode == SaveMode.Create && await SizeAsync(connection, path, cancellationToken) is not null)
        {
            throw AlreadyExists(name);
        }

        await EnsureDirectoryAsync(connection, path[..path.LastIndexOf('/')], cancellationToken);
        var command = "STOR " + temp;
        await using (var input = ContentStream.Open(content, Describe(name)))
        {
            var data = await connection.StartTransferAsync(command, 0, cancellationToken);
            try
            {
                await input.CopyToAsync(data, 1 << 16, cancellationToken);
                if (data is SslStream ssl)
                {
                    // The end of the file is the TLS close_notify: without it the server cannot tell it from a dropped connection.
                    await ssl.ShutdownAsync();
                }
            }
            catch
            {
                connection.MarkBroken();
                throw;
            }
            finally
            {
                await data.DisposeAsync();
            }
        }

        await connection.FinishTransferAsync(command, complete: true, cancellationToken);
        if (mode == SaveMode.Create && await SizeAsync(connection, path, cancellationToken) is not null)
        {
            throw AlreadyExists(name);
        }

        await connection.ExpectAsync("RNFR", await connection.CommandAsync("RNFR " + temp, cancellationToken), 350);
        await connection.ExpectAsync("RNTO", await connection.CommandAsync("RNTO " + path, cancellationToken), 250);
        return true;
    }

    public async Task LoadAsync(string name, long offset, long length, Func<Stream, CancellationToken, Task> consumer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var path = PathOf(name);
        await RunAsync(
            name,
            "read",
            async connection =>
            {
                var size = await SizeAsync(connection, path, cancellationToken) ?? throw NotFound(name);
                if (offset > size || (length >= 0 && offset + length > size))
                {
                    throw UploadChecks.PastTheEnd(Describe(name), size, offset, length);
                }

                var expected = length >= 0 ? length : size - offset;
                if (expected == 0)
                {
                    await consumer(Stream.Null, cancellationToken);
                    return true;
                }

                var command = "RETR " + path;
                var data = await connection.StartTransferAsync(command, offset, cancellationToken);
                try
                {
                    await using var body = new DownloadStream(new SubStream(data, expected), expected, Describe(name));
                    await consumer(body, cancellationToken);
                }
                catch
                {
                    connection.MarkBroken();
                    await data.DisposeAsync();
                    throw;
                }

                // The range may end before the file does: closing the data connection then aborts the rest.
                await data.DisposeAsync();
                await connection.FinishTransferAsync(command, complete: offset + expected == size, cancellationToken);
                return true;
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
            async connection => await SizeAsync(connection, path, cancellationToken) is { } size ? new ObjectInfo(name, size) : null,
            cancellationToken);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Walk the deepest directory the prefix names; each listing is read whole before the next.
        var slash = prefix.LastIndexOf('/');
        var start = slash >= 0 ? prefix[..slash] : "";
        var found = await RunAsync(
            prefix,
            "list",
            async connection =>
            {
                var result = new List<ObjectInfo>();
                var pending = new Stack<string>();
                pending.Push(start);
                while (pending.TryPop(out var relative))
                {
                    var directory = relative.Length == 0 ? _location.Path : $"{_location.Path}/{relative}";
                    foreach (var entry in await ListDirectoryAsync(connection, directory, cancellationToken))
                    {
                        var name = relative.Length == 0 ? entry.Name : $"{relative}/{entry.Name}";
                        if (entry.IsDirectory)
                        {
                            if (name.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(name + "/", StringComparison.Ordinal))
                            {
                                pending.Push(name);
                            }
                        }
                        else if (name.StartsWith(prefix, StringComparison.Ordinal) && !entry.Name.Contains(TempMarker, StringComparison.Ordinal))
                        {
                            result.Add(new ObjectInfo(name, entry.Size) { Modified = entry.Modified });
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
            async connection =>
            {
                var reply = await connection.CommandAsync("DELE " + path, cancellationToken);
                // 550 for a missing file (deleting it succeeds) and for a directory (only a prefix: nothing to delete), but
                // also for a refused permission: only a file that is still there is a failure.
                if (reply.Code != 250 && await SizeAsync(connection, path, cancellationToken) is not null)
                {
                    throw new FtpReplyException("DELE", reply);
                }

                return true;
            },
            cancellationToken);
    }

    public ValueTask DisposeAsync() => _pool.DisposeAsync();

    private async Task<FtpConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var check = _location.Tls ? new CertificateCheck(_location) : null;
        try
        {
            return await FtpConnection.OpenAsync(_location, _password, check?.Options, cancellationToken);
        }
        catch (AuthenticationException ex) when (check?.Rejection is { } rejection)
        {
            throw new TargetException(
                TargetErrorKind.Misconfigured,
                $"{DisplayName}: {rejection}",
                hint: _location.Fingerprint is not null
                    ? "if the server's certificate was replaced on purpose, check the new fingerprint with its administrator and update fingerprint= in the URL; otherwise someone may be intercepting the connection"
                    : "give the server's certificate (or its CA) with &ca=/path/to/cert.pem, or pin it with &fingerprint=SHA256:…",
                inner: ex);
        }
        catch (FtpReplyException ex) when (ex.Command.StartsWith("PASS", StringComparison.Ordinal) || (ex.Command.StartsWith("USER", StringComparison.Ordinal) && ex.Reply.Code == 530))
        {
            throw new TargetException(
                TargetErrorKind.AuthenticationFailed,
                $"{DisplayName}: {_location.HostAndPort} refused the password from LIFEBOAT_FTP_PASSWORD for the user '{_location.User}' ({ex.Reply})",
                hint: "check the user in the URL and LIFEBOAT_FTP_PASSWORD",
                inner: ex);
        }
        catch (FtpReplyException ex) when (ex.Command == "AUTH TLS")
        {
            throw new TargetException(
                TargetErrorKind.Misconfigured,
                $"{DisplayName}: {_location.HostAndPort} does not offer TLS (AUTH TLS: {ex.Reply})",
                hint: "enable TLS on the server (vsftpd: ssl_enable=YES); ftp://…?insecure=true sends the password and the backups unencrypted",
                inner: ex);
        }
    }

    /// <summary>The size of a regular file, or null when there is none of that name (a directory has no SIZE).</summary>
    private static async Task<long?> SizeAsync(FtpConnection connection, string path, CancellationToken cancellationToken)
    {
        var reply = await connection.CommandAsync("SIZE " + path, cancellationToken);
        if (reply.Code == 213 && long.TryParse(reply.Text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            return size;
        }

        return reply.Code is 550 or 450 ? null : throw new FtpReplyException("SIZE", reply);
    }

    private async Task EnsureDirectoryAsync(FtpConnection connection, string directory, CancellationToken cancellationToken)
    {
        if (_knownDirectories.ContainsKey(directory))
        {
            return;
        }

        // mkdir -p from the top: the repository's root may not exist yet either. An MKD refused because the directory
        // exists (550) is fine; one refused for another reason makes the upload fail, naming the server's answer.
        var path = "";
        foreach (var part in directory.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            path += "/" + part;
            if (!_knownDirectories.ContainsKey(path))
            {
                var reply = await connection.CommandAsync("MKD " + path, cancellationToken);
                if (reply.Code is not (257 or 550 or 521))
                {
                    throw new FtpReplyException("MKD " + path, reply);
                }
            }
        }

        _knownDirectories.TryAdd(directory, true);
    }

    private async Task<List<FtpListing.Entry>> ListDirectoryAsync(FtpConnection connection, string directory, CancellationToken cancellationToken)
    {
        var command = (connection.HasMlsd ? "MLSD " : "LIST ") + directory;
        Stream data;
        try
        {
            data = await connection.StartTransferAsync(command, 0, cancellationToken);
        }
        catch (FtpReplyException ex) when (ex.Reply.Code is 550 or 450)
        {
            return []; // nothing was ever written below it (or the root does not exist yet)
        }

        string text;
        try
        {
            using var buffer = new MemoryStream();
            await data.CopyToAsync(buffer, cancellationToken);
            text = Encoding.UTF8.GetString(buffer.ToArray());
        }
        catch
        {
            connection.MarkBroken();
            throw;
        }
        finally
        {
            await data.DisposeAsync();
        }

        await connection.FinishTransferAsync(command, complete: true, cancellationToken);
        return connection.HasMlsd ? FtpListing.ParseMlsd(text) : FtpListing.ParseList(text, _time.GetUtcNow());
    }

    private async Task DeleteQuietlyAsync(string path)
    {
        // Bounded: the server may be what failed.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _pool.RunAsync(async connection => (await connection.CommandAsync("DELE " + path, timeout.Token)).Code, timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or OperationCanceledException or ObjectDisposedException or AuthenticationException or FtpReplyException or TargetException or InvalidOperationException)
        {
            // Best effort: a temp file is invisible to readers.
        }
    }

    /// <summary>Runs an operation on a pooled connection and classifies its failures where they arise (STYLE.md rule 5).</summary>
    private async Task<T> RunAsync<T>(string name, string operation, Func<FtpConnection, Task<T>> body, CancellationToken cancellationToken)
    {
        try
        {
            return await _pool.RunAsync(body, cancellationToken);
        }
        catch (Exception ex) when (ex is not TargetException && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested) && IsFtpFailure(ex))
        {
            throw Classify(ex, name, operation);
        }
    }

    private static bool IsFtpFailure(Exception ex)
        => ex is FtpReplyException or SocketException or IOException or TimeoutException or OperationCanceledException or ObjectDisposedException or AuthenticationException;

    private TargetException Classify(Exception ex, string name, string operation)
    {
        var what = $"cannot {operation} {Describe(name)}";
        return ex switch
        {
            FtpReplyException { Reply.Code: 452 or 552 } reply => new TargetException(TargetErrorKind.NoSpace, $"{what}: the server is out of space ({reply.Reply})", inner: ex),
            FtpReplyException { Reply.Code: 550 or 553 } reply => new TargetException(TargetErrorKind.AccessDenied, $"{what}: the server refused {reply.Command.Split(' ')[0]} ({reply.Reply})", hint: $"check the permissions of the user '{_location.User}' on {_location.Path} on the server", inner: ex),
            FtpReplyException { Reply.Code: >= 400 and < 500 } reply => new TargetException(TargetErrorKind.Unavailable, $"{what}: the server answered {reply.Command.Split(' ')[0]} with {reply.Reply}", inner: ex),
            FtpReplyException reply => new TargetException(TargetErrorKind.Other, $"{what}: the server answered {reply.Command.Split(' ')[0]} with {reply.Reply}", isTransient: false, inner: ex),
            SocketException socket => new TargetException(TargetErrorKind.Unavailable, $"{what}: cannot connect to {_location.Host}:{_location.Port.ToString(CultureInfo.InvariantCulture)}: {socket.Message}", inner: ex),
            _ => new TargetException(TargetErrorKind.Unavailable, $"{what}: the connection to {_location.Host}:{_location.Port.ToString(CultureInfo.InvariantCulture)} failed: {ex.Message}", inner: ex),
        };
    }

    private string PathOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Contains("..", StringComparison.Ordinal) || name.Contains('\\') || name.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        }

        return $"{_location.Path}/{name}";
    }

    private string Describe(string name) => $"{DisplayName}/{name}";

    private TargetException NotFound(string name) => new(TargetErrorKind.NotFound, $"{Describe(name)} does not exist");

    private TargetException AlreadyExists(string name) => new(TargetErrorKind.AlreadyExists, $"{Describe(name)} already exists");
}
