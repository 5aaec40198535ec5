using System.Collections.Concurrent;
using System.Net.Sockets;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Lifeboat.Targets.Sftp;

/// <summary>
/// Up to <c>size</c> SFTP connections, each used by one operation at a time. Connections are opened when needed and kept
/// for the next operation; one that failed or was cancelled mid-operation is closed, never reused, so no operation sees
/// the leftovers of another.
/// </summary>
internal sealed class SftpConnectionPool : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<SftpClient>> _connect;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<SftpClient> _idle = [];
    private volatile bool _disposed;

    public SftpConnectionPool(int size, Func<CancellationToken, Task<SftpClient>> connect)
    {
        _connect = connect;
        _slots = new SemaphoreSlim(size, size);
    }

    /// <summary>Runs <paramref name="operation"/> with a connection of its own.</summary>
    public async Task<T> RunAsync<T>(Func<SftpClient, Task<T>> operation, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _slots.WaitAsync(cancellationToken);
        SftpClient? client = null;
        var reusable = false;
        try
        {
            while (_idle.TryTake(out var idle))
            {
                if (idle.IsConnected)
                {
                    client = idle;
                    break;
                }

                idle.Dispose();
            }

            client ??= await _connect(cancellationToken);
            var result = await operation(client);
            reusable = true;
            return result;
        }
        catch (Exception ex) when (!IsConnectionFailure(ex))
        {
            // The server answered (no such file, permission denied, already exists): the connection is fine.
            reusable = true;
            throw;
        }
        finally
        {
            if (client is not null)
            {
                if (reusable && client.IsConnected && !_disposed)
                {
                    _idle.Add(client);
                }
                else
                {
                    client.Dispose();
                }
            }

            _slots.Release();
        }
    }

    public async Task RunAsync(Func<SftpClient, Task> operation, CancellationToken cancellationToken)
        => await RunAsync(
            async client =>
            {
                await operation(client);
                return true;
            },
            cancellationToken);

    /// <summary>A failure that may leave the connection in an unknown state: it is closed rather than reused.</summary>
    private static bool IsConnectionFailure(Exception ex)
        => ex is OperationCanceledException or SshConnectionException or SshOperationTimeoutException or SocketException or ObjectDisposedException
               or InvalidOperationException or IOException
           || ex is TargetException { IsTransient: true };

    public ValueTask DisposeAsync()
    {
        _disposed = true;
        while (_idle.TryTake(out var client))
        {
            client.Dispose();
        }

        return ValueTask.CompletedTask;
    }
}
