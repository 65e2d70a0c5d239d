using System;
using System.IO;
using System.Net.Sockets;

namespace Delayed.Core.Redis;

/// <summary>
/// A stream over a connected socket for a caller that writes and then waits for the reply on its own thread: the wait
/// is a poll() on that thread, which the kernel wakes when the reply arrives.
/// </summary>
/// <remarks>
/// Why not NetworkStream: a socket connected asynchronously (for the connect timeout) stays non-blocking on Unix, and
/// a synchronous receive there that finds no data yet registers with .NET's epoll thread and sleeps until that thread
/// wakes it: one more thread to wake per round trip. Measured with Add-DelayedTask once per call, that wait was 56 %
/// of the pipeline thread's time (bench/README.md, ninth session). Here the receive only runs once poll() says data
/// is there, so it completes at once.
/// </remarks>
internal sealed class PolledSocketStream : Stream
{
    private readonly Socket _socket;
    private int _timeoutMicroseconds;

    public PolledSocketStream(Socket socket, int timeoutMilliseconds)
    {
        _socket = socket;
        TimeoutMilliseconds = timeoutMilliseconds;
    }

    /// <summary>
    /// How long a read waits for data: the client's timeout, or longer for a call that blocks on the server (BLPOP);
    /// <see cref="System.Threading.Timeout.Infinite"/> for a reader whose overdue replies another thread finds.
    /// </summary>
    public int TimeoutMilliseconds
    {
        get => _timeoutMicroseconds < 0 ? System.Threading.Timeout.Infinite : _timeoutMicroseconds / 1000;
        set => _timeoutMicroseconds = value == System.Threading.Timeout.Infinite ? -1 : checked(value * 1000);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>
    /// Run before each read, which may wait for the socket: the pipelined enqueue connection's reader sends there what its
    /// callers wrote meanwhile (also through a TLS stream over this one, which reads and writes through it).
    /// </summary>
    public Action? BeforeRead { get; set; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        BeforeRead?.Invoke();
        // True also on an error or a closed connection, which the receive then reports (an exception, or 0 bytes).
        if (!_socket.Poll(_timeoutMicroseconds, SelectMode.SelectRead))
            throw new IOException($"Redis did not answer within {_timeoutMicroseconds / 1000} ms.", new SocketException((int)SocketError.TimedOut));
        return _socket.Receive(buffer, offset, count, SocketFlags.None);
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        while (count > 0)
        {
            var sent = _socket.Send(buffer, offset, count, SocketFlags.None);
            offset += sent;
            count -= sent;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _socket.Dispose();
        base.Dispose(disposing);
    }
}
