using System.IO;
using System.Text;
using StackExchange.Redis;

namespace Delayed.Core.Redis;

/// <summary>
/// RESP as the module's own connections write and read it (<see cref="DirectConnection"/>,
/// <see cref="PipelinedEnqueueConnection"/>): requests as arrays of bulk strings, replies bounded in size and depth.
/// </summary>
internal static class RespWire
{
    internal static void Write(Stream stream, string command, params byte[][] arguments)
    {
        WriteHeader(stream, '*', 1 + arguments.Length);
        WriteBulk(stream, Encoding.ASCII.GetBytes(command));
        foreach (var argument in arguments) WriteBulk(stream, argument);
    }

    internal static void WriteBulk(Stream stream, byte[] value)
    {
        WriteHeader(stream, '$', value.Length);
        stream.Write(value, 0, value.Length);
        stream.WriteByte((byte)'\r');
        stream.WriteByte((byte)'\n');
    }

    internal static void WriteHeader(Stream stream, char kind, long length)
    {
        stream.WriteByte((byte)kind);
        // Digits without a string: a length is never negative here.
        var divisor = 1L;
        while (length / divisor >= 10) divisor *= 10;
        for (; divisor > 0; divisor /= 10) stream.WriteByte((byte)('0' + length / divisor % 10));
        stream.WriteByte((byte)'\r');
        stream.WriteByte((byte)'\n');
    }

    /// <summary>One reply, as the multiplexer would give it: a RedisResult, or a <see cref="RespError"/>.</summary>
    internal static object? Read(Stream stream, int depth, long maxReplyBytes)
    {
        // A claim's reply is at most an array of seven; replies of a few levels are all this connection is for.
        if (depth > 4) throw new InvalidDataException("A reply nested deeper than the claim script's.");
        var kind = stream.ReadByte();
        switch (kind)
        {
            case '+':
                return RedisResult.Create((RedisValue)ReadLine(stream), ResultType.SimpleString);
            case '-':
                return new RespError(ReadLine(stream));
            case ':':
                return RedisResult.Create((RedisValue)ReadNumber(stream), ResultType.Integer);
            case '$':
                var length = ReadNumber(stream);
                if (length < 0) return RedisResult.Create(RedisValue.Null, ResultType.BulkString);
                if (length > maxReplyBytes) throw new InvalidDataException($"A reply of {length} bytes, over the {maxReplyBytes} taken.");
                var value = new byte[length];
                ReadExactly(stream, value);
                if (stream.ReadByte() != '\r' || stream.ReadByte() != '\n') throw new InvalidDataException("A bulk reply not ended by CRLF.");
                return RedisResult.Create((RedisValue)value, ResultType.BulkString);
            case '*':
                var count = ReadNumber(stream);
                if (count < 0) return RedisResult.Create(RedisValue.Null, ResultType.BulkString);
                if (count > 64) throw new InvalidDataException($"An array of {count} elements, more than a claim's reply has.");
                var items = new RedisResult[count];
                for (var i = 0; i < count; i++)
                {
                    var item = Read(stream, depth + 1, maxReplyBytes);
                    if (item is RespError nested) throw new InvalidDataException("An error inside an array: " + nested.Text);
                    items[i] = (RedisResult)item!;
                }
                return RedisResult.Create(items);
            case -1:
                throw new EndOfStreamException("Redis closed the direct connection.");
            default:
                throw new InvalidDataException($"Not a RESP reply: byte {kind}.");
        }
    }

    /// <summary>A reply's number (an integer, a length, a count), read up to its CRLF.</summary>
    internal static long ReadNumber(Stream stream)
    {
        var b = stream.ReadByte();
        var negative = b == '-';
        if (negative) b = stream.ReadByte();
        long value = 0;
        var digits = 0;
        for (; b is >= '0' and <= '9'; b = stream.ReadByte())
        {
            if (++digits > 18) throw new InvalidDataException("A number in a reply longer than 18 digits.");
            value = value * 10 + (b - '0');
        }
        if (b < 0) throw new EndOfStreamException("Redis closed the direct connection.");
        if (digits == 0 || b != '\r' || stream.ReadByte() != '\n') throw new InvalidDataException("A number in a reply not ended by CRLF.");
        return negative ? -value : value;
    }

    internal static string ReadLine(Stream stream)
    {
        var line = new StringBuilder();
        while (true)
        {
            var b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException("Redis closed the direct connection.");
            if (b == '\r')
            {
                if (stream.ReadByte() != '\n') throw new InvalidDataException("A reply line not ended by CRLF.");
                return line.ToString();
            }
            // Lines are a type's digits or a short status or error text.
            if (line.Length >= 4096) throw new InvalidDataException("A reply line longer than 4096 bytes.");
            line.Append((char)b);
        }
    }

    internal static void ReadExactly(Stream stream, byte[] buffer)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var n = stream.Read(buffer, read, buffer.Length - read);
            if (n == 0) throw new EndOfStreamException("Redis closed the direct connection.");
            read += n;
        }
    }
}

/// <summary>An error reply (a line starting with '-'), kept as a value for the caller to judge.</summary>
internal sealed class RespError
{
    public RespError(string text) => Text = text;

    public string Text { get; }
}
