using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>
/// Decodes popped bytes into a <see cref="DelayedTask"/>, telling the two shapes apart by the rules of
/// docs/protocol.md, Task formats. Anything else is a <see cref="MalformedTaskException"/>; nothing is ever executed or
/// instantiated from the data.
/// </summary>
public static class TaskDecoder
{
    public static DelayedTask Decode(ReadOnlyMemory<byte> raw, PlainDataLimits? limits = null)
    {
        // Static lambdas with the state passed in: decoding, on every task's path, allocates no closure.
        return Read(raw, limits ?? PlainDataLimits.Default, static (ref MessagePackReader reader, ReadOnlyMemory<byte> raw, PlainDataLimits limits) =>
        {
            var task = reader.NextMessagePackType switch
            {
                // Rule 1: a bare string is a Go-shaped task without payload (the Python implementation writes it).
                MessagePackType.String => new DelayedTask(PlainDataReader.ReadString(ref reader), TaskFormat.Go,
                    Array.Empty<object?>(), null, 0, hasPayload: false, payload: null, raw),
                MessagePackType.Array => DecodeArray(ref reader, raw, limits),
                _ => throw new MalformedTaskException($"A task must be a MessagePack array or string; found {reader.NextMessagePackType}."),
            };
            if (!reader.End) throw new MalformedTaskException("The task has trailing bytes after its MessagePack value.");
            return task;
        });
    }

    /// <summary>
    /// Reads only a task's name, without decoding its arguments: a worker looks its handler up first, so that a task
    /// it cannot run costs it no decoding.
    /// </summary>
    public static string ReadName(ReadOnlyMemory<byte> raw, PlainDataLimits? limits = null) =>
        Read(raw, limits ?? PlainDataLimits.Default, static (ref MessagePackReader reader, ReadOnlyMemory<byte> _, PlainDataLimits _) =>
        {
            if (reader.NextMessagePackType == MessagePackType.Array && reader.ReadArrayHeader() is < 1 or > 4)
                throw new MalformedTaskException("A task array has 1 to 4 elements.");
            if (reader.NextMessagePackType != MessagePackType.String)
                throw new MalformedTaskException($"A task is an array whose first element is its name, or a bare name; found {reader.NextMessagePackType}.");
            return PlainDataReader.ReadString(ref reader);
        });

    private delegate T Reader<T>(ref MessagePackReader reader, ReadOnlyMemory<byte> raw, PlainDataLimits limits);

    /// <summary>The checks and error translation every read of a task shares: anything wrong is a <see cref="MalformedTaskException"/>.</summary>
    private static T Read<T>(ReadOnlyMemory<byte> raw, PlainDataLimits limits, Reader<T> read)
    {
        if (raw.Length == 0) throw new MalformedTaskException("The task is empty (zero bytes).");
        if (raw.Length > limits.MaxTaskBytes)
            throw new MalformedTaskException($"The task is {raw.Length} bytes, more than the limit of {limits.MaxTaskBytes} bytes.");
        try
        {
            var reader = new MessagePackReader(raw);
            return read(ref reader, raw, limits);
        }
        catch (PlainDataException e)
        {
            throw new MalformedTaskException(e.Message, e);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException or ArgumentException or OverflowException)
        {
            throw new MalformedTaskException("The task is not valid MessagePack: " + e.Message, e);
        }
    }

    private static DelayedTask DecodeArray(ref MessagePackReader reader, ReadOnlyMemory<byte> raw, PlainDataLimits limits)
    {
        var count = reader.ReadArrayHeader();
        if (count is < 1 or > 4) throw new MalformedTaskException($"A task array has 1 to 4 elements; this one has {count}.");
        if (reader.NextMessagePackType != MessagePackType.String)
            throw new MalformedTaskException($"A task's first element is its name (a string); found {reader.NextMessagePackType}.");
        var name = PlainDataReader.ReadString(ref reader);

        // Rule 2: [name, bin | nil | str] is Go-shaped.
        if (count == 2 && reader.NextMessagePackType is MessagePackType.Binary or MessagePackType.Nil or MessagePackType.String)
            return DecodeGo(ref reader, name, raw, limits);

        // Rule 3: [name, args?, kwargs?, retry?] is Python-shaped.
        var budget = limits.MaxElements; // one budget for the whole task
        IReadOnlyList<object?> arguments = Array.Empty<object?>();
        ReadOnlyMemory<byte> rawArguments = default, rawNamed = default;
        Dictionary<string, object?>? named = null;
        long retry = 0;
        if (count >= 2)
        {
            var start = (int)reader.Consumed;
            if (reader.TryReadNil()) { }
            else if (reader.NextMessagePackType == MessagePackType.Array) arguments = (object?[])PlainDataReader.Read(ref reader, limits, ref budget, 1)!;
            else throw new MalformedTaskException($"Element 1 of a Python-shaped task (positional arguments) must be an array or nil; found {reader.NextMessagePackType}.");
            rawArguments = raw.Slice(start, (int)reader.Consumed - start);
        }
        if (count >= 3)
        {
            var start = (int)reader.Consumed;
            if (reader.TryReadNil()) { }
            else if (reader.NextMessagePackType == MessagePackType.Map) named = NamedArguments((Dictionary<object, object?>)PlainDataReader.Read(ref reader, limits, ref budget, 1)!);
            else throw new MalformedTaskException($"Element 2 of a Python-shaped task (keyword arguments) must be a map or nil; found {reader.NextMessagePackType}.");
            rawNamed = raw.Slice(start, (int)reader.Consumed - start);
        }
        if (count == 4)
        {
            retry = reader.NextMessagePackType switch
            {
                MessagePackType.Integer => reader.ReadInt64(),
                MessagePackType.Boolean => reader.ReadBoolean() ? 1 : 0,
                _ => throw new MalformedTaskException($"Element 3 of a Python-shaped task (retry) must be an integer; found {reader.NextMessagePackType}."),
            };
        }
        return new DelayedTask(name, TaskFormat.Python, arguments, named, retry, hasPayload: false, payload: null, raw, rawArguments, rawNamed);
    }

    private static DelayedTask DecodeGo(ref MessagePackReader reader, string name, ReadOnlyMemory<byte> raw, PlainDataLimits limits)
    {
        ReadOnlyMemory<byte> document;
        if (reader.TryReadNil()) document = default;
        else if (reader.NextMessagePackType == MessagePackType.Binary) document = reader.ReadBytes()!.Value.ToArray();
        else document = reader.ReadStringSequence()!.Value.ToArray(); // Go reads a str payload as raw bytes

        if (document.IsEmpty)
            return new DelayedTask(name, TaskFormat.Go, Array.Empty<object?>(), null, 0, hasPayload: false, payload: null, raw);

        var inner = new MessagePackReader(document);
        object? payload;
        try
        {
            payload = PlainDataReader.Read(ref inner, limits, 1);
        }
        catch (Exception e) when (e is MessagePackSerializationException or EndOfStreamException)
        {
            throw new MalformedTaskException("The payload of a Go-shaped task is not valid MessagePack: " + e.Message, e);
        }
        if (!inner.End) throw new MalformedTaskException("The payload of a Go-shaped task has trailing bytes.");
        return new DelayedTask(name, TaskFormat.Go, Array.Empty<object?>(), null, 0, hasPayload: true, payload, raw);
    }

    /// <summary>String keys hashed with the process's secret (<see cref="PlainKeyComparer"/>).</summary>
    private sealed class KeyedStrings : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) => string.Equals(x, y, StringComparison.Ordinal);

        public int GetHashCode(string value) => PlainKeyComparer.Ordinal.GetHashCode(value);
    }

    private static Dictionary<string, object?> NamedArguments(Dictionary<object, object?> map)
    {
        var named = new Dictionary<string, object?>(map.Count, new KeyedStrings());
        foreach (var pair in map)
        {
            if (pair.Key is not string key)
                throw new MalformedTaskException($"Keyword argument names must be strings; found a {pair.Key.GetType().Name} key.");
            named[key] = pair.Value;
        }
        return named;
    }
}
