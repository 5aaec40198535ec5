using System.Collections.Concurrent;

namespace Lifeboat.Targets.Ftp;

/// <summary>
/// Up to <c>size</c> FTP control connections, each used by one operation at a time, opened when needed and kept for the
/// next operation. A connection an operation marked broken (a failed or cancelled transfer, a timeout) is closed, never
/// reused, so no operation reads the leftover replies of another.
/// </summary>
internal sealed class FtpConnectionPool : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<FtpConnection>> _connect;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<FtpConnection> _idle = [];
    private static readonly TimeSpan MaxIdle = TimeSpan.FromSeconds(60);
    private volatile bool _disposed;

    public FtpConnectionPool(int size, Func<CancellationToken, Task<FtpConnection>> connect)
    {
        _connect = connect;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Runs <paramref name="operation"/> with a connection of its own.</summary>
    public async Task<T> RunAsync<T>(Func<FtpConnection, Task<T>> operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(cancellationToken);
        FtpConnection? connection = null;
        try
        {
            while (_idle.TryTake(out var idle))
            {
                // Servers close idle sessions (vsftpd after 300 s, with 421): a connection idle for long is not worth trying.
                if (idle.IdleFor < MaxIdle)
                {
                    connection = idle;
                    break;
                }

                await idle.DisposeAsync();
            }

            connection ??= await _connect(cancellationToken);

            return await operation(connection);
        }
        catch (Exception ex) when (connection is not null && ex is not FtpReplyException { Reply.Code: not 421 } and not TargetException { Kind: TargetErrorKind.NotFound or TargetErrorKind.AlreadyExists })
        {
            // Anything but a refusal the server answered in order (no such file, already exists, a 5xx reply): the
            // connection's state is unknown (a transfer cut short, a reply not read).
            connection.MarkBroken();
            throw;
        }
        finally
        {
            if (connection is not null)
            {
                if (connection.Usable && !_disposed)
                {
                    connection.Released();
                    _idle.Add(connection);
                }
                else
                {
                    await connection.DisposeAsync();
                }
            }

            _slots.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out var connection))
        {
            await connection.DisposeAsync();
        }
    }
}
