using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Management.Automation;
using Delayed.Core.Codec;

namespace Delayed.PowerShell.Conversion;

/// <summary>
/// PowerShell values to plain task data and back (the table in docs/protocol.md, Task formats). Only data crosses: a value that
/// is not plain data is refused with an error that names its type and says how to pass data instead.
/// </summary>
internal static class PlainDataConverter
{
    private const int MaxDepth = Core.Codec.PlainDataLimits.DefaultMaxDepth;

    /// <summary>A PowerShell value as plain data the core encoder writes.</summary>
    public static object? ToPlain(object? value, int depth = 0)
    {
        if (depth > MaxDepth) throw new PlainDataException($"Task data is nested more than {MaxDepth} levels deep (or refers to itself); pass a flatter object.");
        if (value is PSObject wrapped)
        {
            if (wrapped.BaseObject is PSCustomObject) return CustomObjectToMap(wrapped, depth);
            value = wrapped.BaseObject;
        }
        switch (value)
        {
            case null:
            case string or bool or char or byte or sbyte or short or ushort or int or uint or long or ulong or float or double:
            case byte[] or DateTime or DateTimeOffset:
                return value;
            case decimal number:
                return (double)number;
            case SwitchParameter flag:
                return flag.IsPresent;
            case Enum enumValue:
                return enumValue.ToString();
            case Guid guid:
                return guid.ToString();
            case IDictionary map:
                return DictionaryToMap(map, depth);
            case IList or ICollection:
                var items = new List<object?>();
                foreach (var item in (IEnumerable)value) items.Add(ToPlain(item, depth + 1));
                return items.ToArray();
        }
        throw new PlainDataException(
            $"A value of type '{value.GetType().FullName}' cannot be sent as task data: tasks carry plain data only " +
            "(null, booleans, numbers, strings, byte arrays, dates, arrays, hashtables and PSCustomObjects). " +
            "Pass the properties you need instead, e.g. `$value | Select-Object Name, Id`, or a hashtable.");
    }

    /// <summary>Decoded task data as PowerShell values: maps become ordered, case-insensitive hashtables.</summary>
    public static object? FromPlain(object? value) => value switch
    {
        Dictionary<object, object?> map => MapToOrdered(map),
        object?[] items => Array.ConvertAll(items, FromPlain),
        _ => value,
    };

    /// <summary>A decoded map as an ordered, case-insensitive hashtable, its keys hashed with the process's secret (no hash flooding).</summary>
    public static OrderedDictionary MapToOrdered<TKey>(IEnumerable<KeyValuePair<TKey, object?>> map)
        where TKey : notnull
    {
        var ordered = new OrderedDictionary(Core.Codec.PlainKeyComparer.OrdinalIgnoreCase);
        foreach (var pair in map) ordered[pair.Key] = FromPlain(pair.Value);
        return ordered;
    }

    private static OrderedDictionary CustomObjectToMap(PSObject custom, int depth)
    {
        var map = new OrderedDictionary();
        foreach (var property in custom.Properties) map[property.Name] = ToPlain(property.Value, depth + 1);
        return map;
    }

    private static OrderedDictionary DictionaryToMap(IDictionary source, int depth)
    {
        var map = new OrderedDictionary();
        foreach (DictionaryEntry entry in source)
        {
            var key = entry.Key is PSObject wrappedKey ? wrappedKey.BaseObject : entry.Key;
            if (key is not string name)
                throw new PlainDataException($"A hashtable key of type '{key.GetType().FullName}' ({key}) cannot be sent as task data: use string keys.");
            map[name] = ToPlain(entry.Value, depth + 1);
        }
        return map;
    }
}
