using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>
/// Reads MessagePack into plain .NET values only: null, bool, long (ulong beyond its range), double, string,
/// byte[], object?[] and ordered Dictionary&lt;object, object?&gt; maps, and DateTime (UTC) for the timestamp
/// extension. No type names are ever taken from the data; other extension types are refused.
/// </summary>
public static class PlainDataReader
{
    // Stryker disable once Boolean : whether to write a byte order mark concerns encoding; this instance only decodes.
    private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>Reads one value within the limits, its budget of values a fresh one.</summary>
    internal static object? Read(ref MessagePackReader reader, PlainDataLimits limits, int depth = 0)
    {
        var budget = limits.MaxElements;
        return Read(ref reader, limits, ref budget, depth);
    }

    /// <summary>Reads one value; <paramref name="budget"/> is how many more values this task may hold (<see cref="PlainDataLimits.MaxElements"/>).</summary>
    internal static object? Read(ref MessagePackReader reader, PlainDataLimits limits, ref int budget, int depth = 0)
    {
        if (--budget < 0) throw new PlainDataException($"Task data holds more than {limits.MaxElements} values (arrays' elements and maps' keys and values).");
        switch (reader.NextMessagePackType)
        {
            case MessagePackType.Nil:
                reader.ReadNil();
                return null;
            case MessagePackType.Boolean:
                return reader.ReadBoolean();
            case MessagePackType.Integer:
                if (reader.NextCode != MessagePackCode.UInt64) return reader.ReadInt64();
                // An unsigned 64-bit integer as a long where it fits, so that equal numbers compare equal whatever their encoding.
                var unsigned = reader.ReadUInt64();
                return unsigned <= long.MaxValue ? (long)unsigned : unsigned;
            case MessagePackType.Float:
                return reader.ReadDouble();
            case MessagePackType.String:
                return ReadString(ref reader);
            case MessagePackType.Binary:
                return reader.ReadBytes()!.Value.ToArray();
            case MessagePackType.Array:
                return ReadArray(ref reader, limits, ref budget, depth);
            case MessagePackType.Map:
                return ReadMap(ref reader, limits, ref budget, depth);
            case MessagePackType.Extension:
                var header = reader.ReadExtensionFormatHeader();
                if (header.TypeCode == ReservedMessagePackExtensionTypeCode.DateTime)
                    return reader.ReadDateTime(header);
                throw new PlainDataException($"Task data holds a MessagePack extension of type {header.TypeCode}; only the timestamp extension (-1) is plain data.");
            default:
                throw new PlainDataException($"Task data holds an invalid MessagePack code 0x{reader.NextCode:x2}.");
        }
    }

    /// <summary>Reads a str value with strict UTF-8 (invalid bytes are an error, as in the Python implementation).</summary>
    internal static string ReadString(ref MessagePackReader reader)
    {
        var sequence = reader.ReadStringSequence();
        if (sequence is null) throw new PlainDataException("Expected a string, found nil.");
        try
        {
            return StrictUtf8.GetString(sequence.Value.ToArray());
        }
        catch (DecoderFallbackException e)
        {
            throw new PlainDataException("Task data holds a string that is not valid UTF-8.", e);
        }
    }

    private static object?[] ReadArray(ref MessagePackReader reader, PlainDataLimits limits, ref int budget, int depth)
    {
        CheckDepth(depth, limits);
        var count = reader.ReadArrayHeader();
        if (count > budget) throw new PlainDataException($"Task data holds more than {limits.MaxElements} values (an array of {count}).");
        var items = new object?[count];
        for (var i = 0; i < count; i++) items[i] = Read(ref reader, limits, ref budget, depth + 1);
        return items;
    }

    private static Dictionary<object, object?> ReadMap(ref MessagePackReader reader, PlainDataLimits limits, ref int budget, int depth)
    {
        CheckDepth(depth, limits);
        var count = reader.ReadMapHeader();
        if (count > budget / 2) throw new PlainDataException($"Task data holds more than {limits.MaxElements} values (a map of {count} entries).");
        // Stryker disable once Linq : a capacity, which a header that lies about its count must not make large; not a behaviour.
        var map = new Dictionary<object, object?>(Math.Min(count, 1024), PlainKeyComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            var key = Read(ref reader, limits, ref budget, depth + 1);
            if (key is not (string or long or ulong or bool))
                throw new PlainDataException($"Task data holds a map key of type {Describe(key)}; only string, integer and boolean keys are plain data.");
            map[key] = Read(ref reader, limits, ref budget, depth + 1);
        }
        return map;
    }

    private static string Describe(object? value) => value is null ? "nil" : value.GetType().Name;

    private static void CheckDepth(int depth, PlainDataLimits limits)
    {
        if (depth >= limits.MaxDepth)
            throw new PlainDataException($"Task data is nested more than {limits.MaxDepth} levels deep.");
    }
}
