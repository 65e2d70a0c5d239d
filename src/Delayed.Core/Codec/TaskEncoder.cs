using System;
using System.Collections;
using System.Collections.Generic;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>Serializes tasks byte-identically to the Python and Go enqueuers (docs/protocol.md, Task formats).</summary>
public static class TaskEncoder
{
    private static readonly byte[] NilPayload = { MessagePackCode.Nil };

    /// <summary>
    /// A Python-shaped task with the trailing-default rule: retry 0 drops element 3, then empty keyword
    /// arguments drop element 2, then empty positional arguments drop element 1.
    /// </summary>
    public static byte[] EncodePython(string name, IList? arguments, IDictionary? namedArguments, long retry, PlainDataLimits? limits = null)
    {
        limits ??= PlainDataLimits.Default;
        CheckName(name);
        var buffer = new ByteBufferWriter();
        var writer = new MessagePackWriter(buffer);
        var hasArguments = arguments is { Count: > 0 };
        var hasNamed = namedArguments is { Count: > 0 };
        var count = retry != 0 ? 4 : hasNamed ? 3 : hasArguments ? 2 : 1;
        writer.WriteArrayHeader(count);
        writer.Write(name);
        if (count >= 2) PlainDataWriter.Write(ref writer, arguments ?? Array.Empty<object>(), limits, 1);
        if (count >= 3)
        {
            if (namedArguments is null) writer.WriteMapHeader(0);
            else WriteNamedArguments(ref writer, namedArguments, limits);
        }
        if (count == 4) writer.Write(retry);
        writer.Flush();
        return Finish(buffer, limits);
    }

    /// <summary>
    /// A Go-shaped task <c>[name, bin(payload)]</c>: no arguments give a nil payload (<c>c4 01 c0</c>, never the
    /// bare string that Go workers cannot decode), one argument is the payload itself, several an array.
    /// </summary>
    public static byte[] EncodeGo(string name, IReadOnlyList<object?>? arguments, PlainDataLimits? limits = null)
    {
        limits ??= PlainDataLimits.Default;
        CheckName(name);
        byte[] payload;
        if (arguments is null || arguments.Count == 0)
        {
            payload = NilPayload;
        }
        else
        {
            var inner = new ByteBufferWriter();
            var innerWriter = new MessagePackWriter(inner);
            PlainDataWriter.Write(ref innerWriter, arguments.Count == 1 ? arguments[0] : arguments, limits, 1);
            innerWriter.Flush();
            payload = inner.ToArray();
        }
        var buffer = new ByteBufferWriter(payload.Length + name.Length + 16);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(2);
        writer.Write(name);
        writer.Write(payload.AsSpan());
        writer.Flush();
        return Finish(buffer, limits);
    }

    /// <summary>
    /// The task to re-enqueue after a failed attempt: retry decremented when positive, kept when negative,
    /// arguments re-sent byte for byte, and the trailing-default rule applied again (P7 becomes P7′).
    /// </summary>
    public static byte[] EncodeRetry(DelayedTask task) => WithRetry(task, task.Retry > 0 ? task.Retry - 1 : task.Retry);

    /// <summary>
    /// The task with another retry budget: arguments re-sent byte for byte, and the trailing-default rule applied
    /// (retry 0 drops the element).
    /// </summary>
    public static byte[] WithRetry(DelayedTask task, long retry)
    {
        if (task.Format != TaskFormat.Python) throw new InvalidOperationException("Only Python-shaped tasks carry a retry budget; a Go-shaped one has none.");
        var hasArguments = task.Arguments.Count > 0;
        var hasNamed = task.NamedArguments.Count > 0;
        var count = retry != 0 ? 4 : hasNamed ? 3 : hasArguments ? 2 : 1;
        var buffer = new ByteBufferWriter(task.Raw.Length + 8);
        var writer = new MessagePackWriter(buffer);
        writer.WriteArrayHeader(count);
        writer.Write(task.Name);
        if (count >= 2)
        {
            if (hasArguments) writer.WriteRaw(task.RawArguments.Span);
            else writer.WriteArrayHeader(0);
        }
        if (count >= 3)
        {
            if (hasNamed) writer.WriteRaw(task.RawNamedArguments.Span);
            else writer.WriteMapHeader(0);
        }
        if (count == 4) writer.Write(retry);
        writer.Flush();
        return buffer.ToArray();
    }

    private static void WriteNamedArguments(ref MessagePackWriter writer, IDictionary namedArguments, PlainDataLimits limits)
    {
        foreach (DictionaryEntry entry in namedArguments)
        {
            if (entry.Key is not string)
                throw new PlainDataException($"Named parameters need string keys; '{entry.Key}' is a {entry.Key.GetType().Name}.");
        }
        PlainDataWriter.Write(ref writer, namedArguments, limits, 1);
    }

    private static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("A task needs a name: the function path that workers dispatch on.", nameof(name));
    }

    private static byte[] Finish(ByteBufferWriter buffer, PlainDataLimits limits)
    {
        if (buffer.WrittenCount > limits.MaxTaskBytes)
            throw new PlainDataException($"The task is {buffer.WrittenCount} bytes, more than the limit of {limits.MaxTaskBytes} bytes. Pass a reference to large data (a path or a URL) instead.");
        return buffer.ToArray();
    }
}
