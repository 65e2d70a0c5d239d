using System;
using System.Collections;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>
/// Writes plain .NET values as MessagePack in the forms both existing implementations produce
/// (docs/protocol.md, Task formats): smallest integer forms, str8 for 32–255 bytes, bin for byte arrays, float64 for doubles.
/// </summary>
public static class PlainDataWriter
{
    internal static void Write(ref MessagePackWriter writer, object? value, PlainDataLimits limits, int depth = 0)
    {
        switch (value)
        {
            case null: writer.WriteNil(); return;
            case bool b: writer.Write(b); return;
            case string s: writer.Write(s); return;
            case char c: writer.Write(c.ToString()); return;
            case byte u8: writer.Write((ulong)u8); return;
            case sbyte i8: writer.Write((long)i8); return;
            case short i16: writer.Write((long)i16); return;
            case ushort u16: writer.Write((ulong)u16); return;
            case int i32: writer.Write((long)i32); return;
            case uint u32: writer.Write((ulong)u32); return;
            case long i64: writer.Write(i64); return;
            case ulong u64: writer.Write(u64); return;
            case float f32: writer.Write(f32); return;
            case double f64: writer.Write(f64); return;
            case byte[] bytes: writer.Write(bytes.AsSpan()); return;
            case ReadOnlyMemory<byte> memory: writer.Write(memory.Span); return;
            case DateTime dateTime: writer.Write(dateTime.Kind == DateTimeKind.Utc ? dateTime : dateTime.ToUniversalTime()); return;
            case DateTimeOffset offset: writer.Write(offset.UtcDateTime); return;
            case Guid guid: writer.Write(guid.ToString()); return;
            case Enum enumValue: writer.Write(enumValue.ToString()); return;
            case IDictionary map: WriteMap(ref writer, map, limits, depth); return;
            case IEnumerable sequence: WriteArray(ref writer, sequence, limits, depth); return;
        }
        throw new PlainDataException(
            $"A value of type '{value.GetType().FullName}' cannot be sent as task data. Tasks carry plain data only: " +
            "null, booleans, numbers, strings, byte arrays, dates, lists and dictionaries with string keys.");
    }

    private static void WriteMap(ref MessagePackWriter writer, IDictionary map, PlainDataLimits limits, int depth)
    {
        CheckDepth(depth, limits);
        writer.WriteMapHeader(map.Count);
        foreach (DictionaryEntry entry in map)
        {
            switch (entry.Key)
            {
                case string or char or bool or byte or sbyte or short or ushort or int or uint or long or ulong:
                    // Stryker disable once Arithmetic : a key is a scalar, which has no depth to check.
                    Write(ref writer, entry.Key, limits, depth + 1);
                    break;
                default:
                    throw new PlainDataException(
                        $"A dictionary key of type '{entry.Key.GetType().FullName}' cannot be sent as task data: use string keys.");
            }
            Write(ref writer, entry.Value, limits, depth + 1);
        }
    }

    private static void WriteArray(ref MessagePackWriter writer, IEnumerable sequence, PlainDataLimits limits, int depth)
    {
        CheckDepth(depth, limits);
        if (sequence is IList list)
        {
            // By index: an array's enumerator is an object of its own, one per array of every task (a pipeline's arguments).
            writer.WriteArrayHeader(list.Count);
            for (var i = 0; i < list.Count; i++) Write(ref writer, list[i], limits, depth + 1);
            return;
        }
        var items = sequence as ICollection ?? MaterializedList(sequence);
        writer.WriteArrayHeader(items.Count);
        foreach (var item in items) Write(ref writer, item, limits, depth + 1);
    }

    private static ArrayList MaterializedList(IEnumerable sequence)
    {
        var list = new ArrayList();
        foreach (var item in sequence) list.Add(item);
        return list;
    }

    private static void CheckDepth(int depth, PlainDataLimits limits)
    {
        if (depth >= limits.MaxDepth)
            throw new PlainDataException($"Task data is nested more than {limits.MaxDepth} levels deep; flatten it, or raise the limit.");
    }
}
