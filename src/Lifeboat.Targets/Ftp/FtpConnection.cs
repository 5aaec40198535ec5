using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Lifeboat.Targets.Ftp;

/// <summary>A reply of an FTP server: the three-digit code and the text (the lines of a multi-line reply joined).</summary>
internal readonly record struct FtpReply(int Code, string Text)
{
    public override string ToString() => $"{Code.ToString(CultureInfo.InvariantCulture)} {Text}";
}

/// <summary>A reply the command did not expect; <see cref="Command"/> never holds a password.</summary>
internal sealed class FtpReplyException(string command, FtpReply reply)
    : Exception($"{command}: the server answered {reply}")
{
    public string Command { get; } = command;

    public FtpReply Reply { get; } = reply;
}

/// <summary>
/// One FTP control connection (RFC 959, RFC 2228/4217 explicit TLS, RFC 2428 EPSV), logged in and in binary mode, and
/// the passive data connections it opens. Not thread-safe: one operation at a time (<see cref="FtpConnectionPool"/>).
/// </summary>
/// <remarks>
/// TLS: the control connection is upgraded with AUTH TLS before USER, then PBSZ 0 and PROT P protect every data
/// connection. Each data connection is a new TLS client session with the same <see cref="SslClientAuthenticationOptions"/>
/// (the same target host), which lets .NET resume the control connection's TLS session on it: vsftpd refuses a data
/// connection that does not (require_ssl_reuse=YES, its default), as a guard against a third party connecting to the
/// passive port. Passive mode only: EPSV, else PASV, always connecting to the control connection's address (the
/// address in a PASV reply is ignored, as curl does, since servers behind NAT announce a private one).
/// </remarks>
internal sealed partial class FtpConnection : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromMinutes(2);

    private readonly TcpClient _client;
    private readonly SslClientAuthenticationOptions? _tls;
    private readonly byte[] _buffer = new byte[4096];
    private Stream _stream;
    private int _start;
    private int _end;
    private bool _extendedPassive = true;

    private FtpConnection(TcpClient client, SslClientAuthenticationOptions? tls)
    {
        _client = client;
        _tls = tls;
        _stream = client.GetStream();
    }

    /// <summary>Whether the server lists directories with MLSD (exact sizes and UTC times); else LIST is parsed.</summary>
    public bool HasMlsd { get; private set; }

    /// <summary>False once a failure left the connection in an unknown state: it is closed, never reused.</summary>
    public bool Usable { get; private set; } = true;

    public void MarkBroken() => Usable = false;

    private long _releasedAt = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>How long the connection has been idle in the pool.</summary>
    public TimeSpan IdleFor => System.Diagnostics.Stopwatch.GetElapsedTime(_releasedAt);

    /// <summary>The connection goes back to the pool.</summary>
    public void Released() => _releasedAt = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Connects, upgrades to TLS (unless the location is plain FTP), logs in and switches to binary mode.</summary>
    public static async Task<FtpConnection> OpenAsync(FtpLocation location, string password, SslClientAuthenticationOptions? tls, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        FtpConnection? connection = null;
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(ConnectTimeout);
                try
                {
                    await client.ConnectAsync(location.Host, location.Port, timeout.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"no connection within {ConnectTimeout.TotalSeconds:0} s");
                }
            }

            connection = new FtpConnection(client, tls);
            await connection.ExpectAsync("(connect)", await connection.ReadReplyAsync(cancellationToken), 220);
            if (tls is not null)
            {
                await connection.ExpectAsync("AUTH TLS", await connection.CommandAsync("AUTH TLS", cancellationToken), 234);
                var ssl = new SslStream(connection._stream, leaveInnerStreamOpen: false);
                connection._stream = ssl;
                await ssl.AuthenticateAsClientAsync(tls, cancellationToken);
                await connection.ExpectAsync("PBSZ 0", await connection.CommandAsync("PBSZ 0", cancellationToken), 200);
                await connection.ExpectAsync("PROT P", await connection.CommandAsync("PROT P", cancellationToken), 200);
            }

            var user = await connection.CommandAsync("USER " + location.User, cancellationToken);
            if (user.Code == 331)
            {
                user = await connection.CommandAsync("PASS " + password, cancellationToken);
                await connection.ExpectAsync("PASS ***", user, 230, 202);
            }
            else
            {
                await connection.ExpectAsync("USER " + location.User, user, 230);
            }

            await connection.ExpectAsync("TYPE I", await connection.CommandAsync("TYPE I", cancellationToken), 200);
            var features = await connection.CommandAsync("FEAT", cancellationToken);
            connection.HasMlsd = features.Code == 211 && features.Text.Split('\n').Any(l => l.Trim().StartsWith("MLSD", StringComparison.OrdinalIgnoreCase) || l.Trim().StartsWith("MLST", StringComparison.OrdinalIgnoreCase));
            return connection;
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            else
            {
                client.Dispose();
            }

            throw;
        }
    }

    /// <summary>Sends a command and reads its reply (CR and LF in an argument are refused: they would start another command).</summary>
    public async Task<FtpReply> CommandAsync(string command, CancellationToken cancellationToken)
    {
        if (command.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("an FTP command cannot hold a line break", nameof(command));
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        return await ReadReplyAsync(cancellationToken);
    }

    /// <summary>Throws <see cref="FtpReplyException"/> unless the reply has one of <paramref name="codes"/>.</summary>
    public Task ExpectAsync(string command, FtpReply reply, params int[] codes)
        => codes.Contains(reply.Code) ? Task.CompletedTask : throw new FtpReplyException(command, reply);

    /// <summary>Reads one reply: <c>ddd text</c>, or the lines from <c>ddd-text</c> to <c>ddd text</c>.</summary>
    public async Task<FtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        try
        {
            var first = await ReadLineAsync(timeout.Token);
            if (first.Length < 3 || !int.TryParse(first.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                throw new IOException($"the server sent '{Truncate(first)}', which is not an FTP reply");
            }

            var text = new StringBuilder(first.Length > 4 ? first[4..] : "");
            if (first.Length > 3 && first[3] == '-')
            {
                var end = first[..3] + " ";
                string line;
                do
                {
                    line = await ReadLineAsync(timeout.Token);
                    text.Append('\n').Append(line.StartsWith(end, StringComparison.Ordinal) ? line[4..] : line);
                }
                while (!line.StartsWith(end, StringComparison.Ordinal));
            }

            return new FtpReply(code, text.ToString());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the server did not answer within {ReplyTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Starts a transfer: REST (when <paramref name="restartAt"/> is above 0), a passive data connection, the command,
    /// its preliminary reply (125 or 150), then TLS on the data connection. The caller reads or writes the stream,
    /// disposes it, and calls <see cref="FinishTransferAsync"/>.
    /// </summary>
    public async Task<Stream> StartTransferAsync(string command, long restartAt, CancellationToken cancellationToken)
    {
        if (restartAt > 0)
        {
            await ExpectAsync("REST", await CommandAsync("REST " + restartAt.ToString(CultureInfo.InvariantCulture), cancellationToken), 350);
        }

        var socket = await PassiveAsync(cancellationToken);
        Stream data = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var reply = await CommandAsync(command, cancellationToken);
            await ExpectAsync(command, reply, 125, 150);
            if (_tls is not null)
            {
                var ssl = new SslStream(data, leaveInnerStreamOpen: false);
                data = ssl;
                await ssl.AuthenticateAsClientAsync(_tls, cancellationToken);
            }

            return data;
        }
        catch
        {
            await data.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Reads the reply that ends a transfer. <paramref name="complete"/>: the whole transfer happened, so only success
    /// (226, 250) is accepted; otherwise the client closed the data connection early on purpose (a range read), and the
    /// server's "transfer aborted" replies are expected too.
    /// </summary>
    public async Task FinishTransferAsync(string command, bool complete, CancellationToken cancellationToken)
    {
        var reply = await ReadReplyAsync(cancellationToken);
        await (complete ? ExpectAsync(command, reply, 226, 250) : ExpectAsync(command, reply, 226, 250, 425, 426, 450, 451));
    }

    private async Task<Socket> PassiveAsync(CancellationToken cancellationToken)
    {
        var remote = ((IPEndPoint)_client.Client.RemoteEndPoint!).Address;
        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4(); // the control socket is dual-mode; the data socket is not
        }

        int port;
        FtpReply reply;
        if (_extendedPassive && (reply = await CommandAsync("EPSV", cancellationToken)).Code == 229 && ExtendedPassive().Match(reply.Text) is { Success: true } epsv)
        {
            port = int.Parse(epsv.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        else
        {
            // A server without EPSV (or behind a proxy that filters it): PASV, once and for good.
            _extendedPassive = false;
            reply = await CommandAsync("PASV", cancellationToken);
            var pasv = Passive().Match(reply.Text);
            if (reply.Code != 227 || !pasv.Success)
            {
                throw new FtpReplyException("PASV", reply);
            }

            port = (int.Parse(pasv.Groups[5].Value, CultureInfo.InvariantCulture) << 8) + int.Parse(pasv.Groups[6].Value, CultureInfo.InvariantCulture);
        }

        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(remote, port), timeout.Token);
            return socket;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"the passive data port {port.ToString(CultureInfo.InvariantCulture)} did not accept a connection within {ConnectTimeout.TotalSeconds:0} s");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new List<byte>(128);
        while (true)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _stream.ReadAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    throw new IOException("the server closed the control connection");
                }
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            var stop = newline < 0 ? _end : newline;
            line.AddRange(_buffer.AsSpan(_start, stop - _start));
            _start = newline < 0 ? _end : newline + 1;
            if (newline >= 0)
            {
                return Encoding.UTF8.GetString(line.ToArray()).TrimEnd('\r');
            }

            if (line.Count > 64 * 1024)
            {
                throw new IOException("the server sent a reply line longer than 64 KiB");
            }
        }
    }

    private static string Truncate(string s) => s.Length > 80 ? s[..80] + "…" : s;

    public async ValueTask DisposeAsync()
    {
        if (Usable && _client.Connected)
        {
            try
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _stream.WriteAsync("QUIT\r\n"u8.ToArray(), quit.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Closing anyway.
            }
        }

        await _stream.DisposeAsync();
        _client.Dispose();
    }

    [GeneratedRegex(@"\(\|\|\|(\d{1,5})\|\)", RegexOptions.CultureInvariant)]
    private static partial Regex ExtendedPassive();

    [GeneratedRegex(@"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})", RegexOptions.CultureInvariant)]
    private static partial Regex Passive();
}
