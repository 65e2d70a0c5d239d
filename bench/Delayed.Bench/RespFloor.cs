using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Delayed.Core.Protocol;

/// <summary>
/// The floor a client library could reach on this machine: the same commands as the module's enqueue and its worker's
/// busy claim, sent by one thread on one socket that writes a request and blocks reading its reply (no multiplexer, no
/// thread pool, no continuation). Only for the benchmark: ours / floor says what the client's own machinery costs.
/// </summary>
/// <remarks>
/// Its socket is connected asynchronously and waits for a reply in poll() on its own thread, as the module's direct
/// connections do (PolledSocketStream). First it was connected synchronously (TcpClient), which leaves the socket in
/// blocking mode: there, on Linux, the send of an enqueue and the wait for its reply measured 15 and 50-60 µs, against
/// 5-7 and 21-28 µs on a socket connected asynchronously (non-blocking underneath), the same stream either way; that
/// "floor" ran at a half to a third of the module's direct paths (bench/README.md, sixteenth session).
/// </remarks>
sealed class RespFloor : IDisposable
{
    private readonly Socket _socket;
    private readonly BufferedStream _out;
    private readonly BufferedStream _in;

    public RespFloor(int port)
    {
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).Wait();
        var stream = new Delayed.Core.Redis.PolledSocketStream(_socket, 5000);
        _out = new BufferedStream(stream, 64 * 1024);
        _in = new BufferedStream(stream, 64 * 1024);
    }

    /// <summary>Enqueues one task as the module does: MULTI, RPUSH of the task and of its token, EXEC; one round trip.</summary>
    public void Enqueue(QueueKeys keys, byte[] task)
    {
        Write("MULTI");
        Write("RPUSH", Bytes(keys.Tasks), task);
        Write("RPUSH", Bytes(keys.Tokens), Bytes("1"));
        Write("EXEC");
        _out.Flush();
        for (var i = 0; i < 4; i++) Read();
    }

    /// <summary>
    /// Drains the queue as one slot of the module's worker does when busy: one call of the claim script per task, which
    /// releases the task held and claims the next. Returns how many it claimed.
    /// </summary>
    public long Drain(QueueKeys keys, string workerId)
    {
        Write("SET", Bytes(workerId), Bytes("1"), Bytes("EX"), Bytes("60"));
        Write("SCRIPT", Bytes("LOAD"), Bytes(LuaScripts.FinishAndClaim));
        _out.Flush();
        Read();
        var sha = (byte[])Read()!;
        var all = keys.All;
        var held = "";
        long claimed = 0;
        while (true)
        {
            var stamp = (claimed + 1).ToString(CultureInfo.InvariantCulture);
            var arguments = new List<byte[]> { sha, Bytes(all.Length.ToString(CultureInfo.InvariantCulture)) };
            foreach (var key in all) arguments.Add(Bytes(key));
            foreach (var argument in new[] { workerId, "token", stamp, held, "release", int.MaxValue.ToString(CultureInfo.InvariantCulture) }) arguments.Add(Bytes(argument));
            Write("EVALSHA", arguments.ToArray());
            _out.Flush();
            var reply = Read();
            if (reply is null) return claimed;
            if (reply is not byte[]) throw new InvalidOperationException($"unexpected claim reply {reply}");
            held = stamp;
            claimed++;
        }
    }

    public void Dispose()
    {
        _out.Dispose();
        _in.Dispose();
        _socket.Dispose();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private void Write(string command, params byte[][] arguments)
    {
        WriteLine("*" + (arguments.Length + 1).ToString(CultureInfo.InvariantCulture));
        WriteBulk(Bytes(command));
        foreach (var argument in arguments) WriteBulk(argument);
    }

    private void WriteBulk(byte[] value)
    {
        WriteLine("$" + value.Length.ToString(CultureInfo.InvariantCulture));
        _out.Write(value);
        _out.Write("\r\n"u8);
    }

    private void WriteLine(string line)
    {
        _out.Write(Encoding.ASCII.GetBytes(line));
        _out.Write("\r\n"u8);
    }

    /// <summary>One reply: a string (status), a long, bytes (bulk), null, or an array of those; an error throws.</summary>
    private object? Read()
    {
        var kind = _in.ReadByte();
        var line = ReadLine();
        switch (kind)
        {
            case '+': return line;
            case '-': throw new InvalidOperationException("Redis: " + line);
            case ':': return long.Parse(line, CultureInfo.InvariantCulture);
            case '$':
                var length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0) return null;
                var value = new byte[length];
                _in.ReadExactly(value);
                _in.ReadByte();
                _in.ReadByte();
                return value;
            case '*':
                var count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0) return null;
                var items = new object?[count];
                for (var i = 0; i < count; i++) items[i] = Read();
                return items;
            default:
                throw new InvalidOperationException($"not a RESP reply: {(char)kind}");
        }
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        int b;
        while ((b = _in.ReadByte()) != '\r')
        {
            if (b < 0) throw new EndOfStreamException();
            line.Append((char)b);
        }
        _in.ReadByte();
        return line.ToString();
    }
}
