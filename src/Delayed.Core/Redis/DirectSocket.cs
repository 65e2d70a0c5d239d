using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// Opens one of the module's own connections beside the multiplexer (<see cref="DirectConnection"/>,
/// <see cref="PipelinedEnqueueConnection"/>): connected asynchronously within the multiplexer's connect timeout, over
/// TLS when the multiplexer's is (<see cref="DirectTls"/>), then authenticated, the database selected and the client
/// named as the multiplexer's options say.
/// </summary>
internal static class DirectSocket
{
    /// <summary>
    /// The socket, the stream that waits for its replies in poll(), and a buffer over that stream (over TLS on it when
    /// <paramref name="tls"/> is given: poll() then waits for the encrypted bytes the TLS stream asks for); Unbuffered is
    /// what the buffer is over (that stream, or the TLS stream), for a second buffer (a reader's).
    /// </summary>
    /// <exception cref="DirectConnectionLostException">It could not be opened or the server refused it; the reason says which.</exception>
    internal static (Socket Socket, PolledSocketStream Polled, BufferedStream Stream, Stream Unbuffered) Open(EndPoint endpoint, ConfigurationOptions options, string? clientName,
        DirectTls? tls = null)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var timeout = Math.Max(1000, options.SyncTimeout);
            // The reply's wait is bounded by PolledSocketStream's poll(); a send by this.
            socket.SendTimeout = timeout;
            if (!socket.ConnectAsync(endpoint).Wait(Math.Max(1000, options.ConnectTimeout)))
                throw new DirectConnectionLostException($"Connecting to {endpoint} timed out.", null);
            var polled = new PolledSocketStream(socket, timeout);
            var unbuffered = tls is null ? polled : tls.Authenticate(polled, endpoint);
            var stream = new BufferedStream(unbuffered, 16 * 1024);
            if (options.Password is { Length: > 0 } password)
            {
                if (options.User is { Length: > 0 } user) RespWire.Write(stream, "AUTH", Encoding.UTF8.GetBytes(user), Encoding.UTF8.GetBytes(password));
                else RespWire.Write(stream, "AUTH", Encoding.UTF8.GetBytes(password));
                stream.Flush();
                // The reply's text is not shown: a server's refusal can echo what it was given.
                if (Read(stream) is RespError) throw new DirectConnectionLostException("Redis refused the credentials on the direct connection.", null);
            }
            if (options.DefaultDatabase is { } database and not 0)
            {
                RespWire.Write(stream, "SELECT", Encoding.ASCII.GetBytes(database.ToString(CultureInfo.InvariantCulture)));
                stream.Flush();
                if (Read(stream) is RespError error) throw new DirectConnectionLostException("Redis refused SELECT: " + error.Text, null);
            }
            // Named in CLIENT LIST, where a server allows it (an ACL may not: then unnamed).
            if (clientName is not null)
            {
                RespWire.Write(stream, "CLIENT", Encoding.ASCII.GetBytes("SETNAME"), Encoding.UTF8.GetBytes(clientName));
                stream.Flush();
                Read(stream);
            }
            return (socket, polled, stream, unbuffered);
        }
        catch (Exception e)
        {
            socket?.Dispose();
            throw e as DirectConnectionLostException ?? new DirectConnectionLostException("Cannot open the direct connection to Redis: " + e.GetBaseException().Message, e);
        }
    }

    /// <summary>
    /// Whether the server closed the socket (an idle client's timeout, a restart) or it failed: it reads as ready with
    /// nothing to read. Asked before a call is sent on a socket that was idle, so nothing is sent into a closed one.
    /// </summary>
    internal static bool ClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return true;
        }
    }

    /// <summary>The reply of a setup command: a status or an error, a few bytes.</summary>
    private static object? Read(Stream stream) => RespWire.Read(stream, 0, 4096);
}
