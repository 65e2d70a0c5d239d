using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Reflection;
using Delayed.Core.Worker;

namespace Delayed.Core.Handlers;

/// <summary>
/// Converts decoded task data (nil, bool, long, ulong, double, string, byte[], arrays, maps, DateTime) to a
/// .NET parameter type: primitives with range checks, strings, byte arrays, enums by name or number, dates,
/// arrays and lists, string-keyed dictionaries, nullable types, and plain classes or records from a map (by
/// property name, case-insensitive) or an array (in declaration order, as Go sends structs). Anything that
/// does not fit is a <see cref="TaskBindingException"/> that says where, what was sent and what was expected.
/// </summary>
internal static class ValueConverter
{
    private const int MaxDepth = Codec.PlainDataLimits.DefaultMaxDepth;

    public static object? Convert(object? value, Type target, string path, int depth = 0)
    {
        if (depth > MaxDepth) throw Mismatch(path, value, target, "nested too deep");
        if (target == typeof(object)) return value;
        if (Nullable.GetUnderlyingType(target) is { } underlying)
            return value is null ? null : Convert(value, underlying, path, depth);
        if (value is null)
        {
            if (!target.IsValueType) return null;
            throw Mismatch(path, value, target);
        }
        if (target.IsEnum) return ToEnum(value, target, path);
        switch (Type.GetTypeCode(target))
        {
            case TypeCode.Boolean: return value is bool b ? b : throw Mismatch(path, value, target);
            case TypeCode.String: return value as string ?? throw Mismatch(path, value, target);
            case TypeCode.Char: return value is string { Length: 1 } c ? c[0] : throw Mismatch(path, value, target, "a one-character string");
            case TypeCode.SByte: return (sbyte)Integer(value, target, path, sbyte.MinValue, sbyte.MaxValue);
            case TypeCode.Byte: return (byte)Integer(value, target, path, byte.MinValue, byte.MaxValue);
            case TypeCode.Int16: return (short)Integer(value, target, path, short.MinValue, short.MaxValue);
            case TypeCode.UInt16: return (ushort)Integer(value, target, path, ushort.MinValue, ushort.MaxValue);
            case TypeCode.Int32: return (int)Integer(value, target, path, int.MinValue, int.MaxValue);
            case TypeCode.UInt32: return (uint)Integer(value, target, path, uint.MinValue, uint.MaxValue);
            case TypeCode.Int64: return Integer(value, target, path, long.MinValue, long.MaxValue);
            case TypeCode.UInt64:
                if (value is ulong big) return big;
                return (ulong)Integer(value, target, path, 0, long.MaxValue);
            case TypeCode.Double: return Real(value, target, path);
            case TypeCode.Single:
                var real = Real(value, target, path);
                if (!double.IsInfinity(real) && Math.Abs(real) > float.MaxValue) throw Mismatch(path, value, target, "a value within the range of Single");
                return (float)real;
            case TypeCode.Decimal:
                try
                {
                    return value switch { long l => l, ulong u => u, double d => (decimal)d, _ => throw Mismatch(path, value, target) };
                }
                catch (OverflowException)
                {
                    throw Mismatch(path, value, target, "a value within the range of Decimal");
                }
            case TypeCode.DateTime:
                return value switch
                {
                    DateTime dateTime => dateTime,
                    string text when DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) => parsed,
                    _ => throw Mismatch(path, value, target, "a timestamp or an ISO 8601 string"),
                };
        }
        if (target == typeof(byte[])) return ToBytes(value, target, path);
        if (target == typeof(DateTimeOffset))
        {
            return value switch
            {
                DateTime dateTime => new DateTimeOffset(dateTime),
                string text when DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) => parsed,
                _ => throw Mismatch(path, value, target, "a timestamp or an ISO 8601 string"),
            };
        }
        if (target == typeof(Guid)) return value is string g && Guid.TryParse(g, out var guid) ? guid : throw Mismatch(path, value, target, "a GUID string");
        if (target == typeof(TimeSpan)) return value is string t && TimeSpan.TryParse(t, CultureInfo.InvariantCulture, out var span) ? span : throw Mismatch(path, value, target, "a time span string such as 00:05:00");
        if (target.IsArray) return ToArray(value, target.GetElementType()!, path, depth);
        if (target.IsGenericType && ListType(target) is { } element) return ToList(value, element, path, depth);
        if (target.IsGenericType && DictionaryType(target) is { } valueType) return ToDictionary(value, valueType, path, depth);
        if (IsPlainObject(target)) return ToObject(value, target, path, depth);
        throw Mismatch(path, value, target, "a type that tasks can carry");
    }

    public static string Describe(object? value) => value switch
    {
        null => "nil",
        string s => $"String \"{(s.Length > 40 ? s.Substring(0, 40) + "…" : s)}\"",
        byte[] bytes => $"Byte[{bytes.Length}]",
        object?[] items => $"an array of {items.Length}",
        IDictionary map => $"a map of {map.Count}",
        _ => $"{value.GetType().Name} {System.Convert.ToString(value, CultureInfo.InvariantCulture)}",
    };

    public static string TypeName(Type type) =>
        Nullable.GetUnderlyingType(type) is { } inner ? TypeName(inner) + "?"
        : type.IsGenericType ? type.Name.Substring(0, type.Name.IndexOf('`')) + "<" + string.Join(", ", type.GetGenericArguments().Select(TypeName)) + ">"
        : type.Name;

    private static TaskBindingException Mismatch(string path, object? value, Type target, string? expected = null) =>
        new($"{path} expects {expected ?? TypeName(target)}, but the task sent {Describe(value)}.");

    private static long Integer(object value, Type target, string path, long min, long max)
    {
        var number = value switch
        {
            long l => l,
            ulong u when u <= long.MaxValue => (long)u,
            _ => throw Mismatch(path, value, target, $"an integer from {min} to {max}"),
        };
        if (number < min || number > max) throw Mismatch(path, value, target, $"an integer from {min} to {max}");
        return number;
    }

    private static double Real(object value, Type target, string path) => value switch
    {
        double d => d,
        long l => l,
        ulong u => u,
        _ => throw Mismatch(path, value, target, "a number"),
    };

    private static object ToEnum(object value, Type target, string path)
    {
        var flags = target.IsDefined(typeof(FlagsAttribute), false);
        object result;
        if (value is string name)
        {
            try
            {
                result = Enum.Parse(target, name, ignoreCase: true);
            }
            catch (ArgumentException)
            {
                throw Mismatch(path, value, target, $"one of {string.Join(", ", Enum.GetNames(target))}");
            }
        }
        else if (value is long or ulong)
        {
            result = Enum.ToObject(target, value);
        }
        else
        {
            throw Mismatch(path, value, target, $"a name or number of {target.Name}");
        }
        if (!flags && !Enum.IsDefined(target, result)) throw Mismatch(path, value, target, $"one of {string.Join(", ", Enum.GetNames(target))}");
        return result;
    }

    private static byte[] ToBytes(object value, Type target, string path)
    {
        if (value is byte[] bytes) return bytes;
        if (value is object?[] items)
            return items.Select((item, i) => (byte)Integer(item ?? throw Mismatch($"{path}[{i}]", null, typeof(byte)), typeof(byte), $"{path}[{i}]", 0, 255)).ToArray();
        throw Mismatch(path, value, target, "binary data");
    }

    private static Array ToArray(object value, Type element, string path, int depth)
    {
        var items = value as object?[] ?? throw Mismatch(path, value, element.MakeArrayType(), "an array");
        var array = Array.CreateInstance(element, items.Length);
        for (var i = 0; i < items.Length; i++) array.SetValue(Convert(items[i], element, $"{path}[{i}]", depth + 1), i);
        return array;
    }

    private static object ToList(object value, Type element, string path, int depth)
    {
        var items = value as object?[] ?? throw Mismatch(path, value, typeof(List<>).MakeGenericType(element), "an array");
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        for (var i = 0; i < items.Length; i++) list.Add(Convert(items[i], element, $"{path}[{i}]", depth + 1));
        return list;
    }

    private static object ToDictionary(object value, Type valueType, string path, int depth)
    {
        var dictionaryType = typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType);
        var map = value as Dictionary<object, object?> ?? throw Mismatch(path, value, dictionaryType, "a map");
        var dictionary = (IDictionary)Activator.CreateInstance(dictionaryType)!;
        foreach (var pair in map)
        {
            if (pair.Key is not string key) throw Mismatch(path, value, dictionaryType, "a map with string keys");
            dictionary[key] = Convert(pair.Value, valueType, $"{path}[\"{key}\"]", depth + 1);
        }
        return dictionary;
    }

    private static Type? ListType(Type target)
    {
        var definition = target.GetGenericTypeDefinition();
        return definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(ICollection<>) || definition == typeof(IEnumerable<>)
            || definition == typeof(IReadOnlyList<>) || definition == typeof(IReadOnlyCollection<>)
            ? target.GetGenericArguments()[0]
            : null;
    }

    private static Type? DictionaryType(Type target)
    {
        var definition = target.GetGenericTypeDefinition();
        var arguments = target.GetGenericArguments();
        return (definition == typeof(Dictionary<,>) || definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>)) && arguments[0] == typeof(string)
            ? arguments[1]
            : null;
    }

    private static bool IsPlainObject(Type target) =>
        !target.IsAbstract && !target.IsInterface && !target.IsPrimitive && !target.IsPointer && !typeof(Delegate).IsAssignableFrom(target)
        && target.Namespace?.StartsWith("System", StringComparison.Ordinal) != true;

    private static object ToObject(object value, Type target, string path, int depth)
    {
        var constructors = target.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        var parameterless = target.IsValueType || constructors.Any(c => c.GetParameters().Length == 0);
        var writable = target.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.GetSetMethod() is not null && p.GetIndexParameters().Length == 0)
            .OrderBy(p => p.MetadataToken).ToList();
        if (parameterless)
        {
            var instance = Activator.CreateInstance(target)!;
            switch (value)
            {
                case Dictionary<object, object?> map:
                    foreach (var pair in map)
                    {
                        var property = writable.FirstOrDefault(p => string.Equals(p.Name, pair.Key as string, StringComparison.OrdinalIgnoreCase))
                            ?? throw new TaskBindingException($"{path} is a {target.Name}, which has no settable property '{pair.Key}'. Properties: {string.Join(", ", writable.Select(p => p.Name))}.");
                        property.SetValue(instance, Convert(pair.Value, property.PropertyType, $"{path}.{property.Name}", depth + 1));
                    }
                    return instance;
                case object?[] items:
                    if (items.Length > writable.Count) throw Mismatch(path, value, target, $"at most {writable.Count} field values ({string.Join(", ", writable.Select(p => p.Name))})");
                    for (var i = 0; i < items.Length; i++)
                        writable[i].SetValue(instance, Convert(items[i], writable[i].PropertyType, $"{path}.{writable[i].Name}", depth + 1));
                    return instance;
            }
            throw Mismatch(path, value, target, $"a map or an array of the fields of {target.Name}");
        }
        // A record or immutable class: its widest public constructor, by parameter name or position.
        var constructor = constructors.OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw Mismatch(path, value, target, "a type with a public constructor");
        var parameters = constructor.GetParameters();
        var arguments = new object?[parameters.Length];
        var given = new bool[parameters.Length];
        switch (value)
        {
            case Dictionary<object, object?> map:
                foreach (var pair in map)
                {
                    var index = Array.FindIndex(parameters, p => string.Equals(p.Name, pair.Key as string, StringComparison.OrdinalIgnoreCase));
                    if (index < 0) throw new TaskBindingException($"{path} is a {target.Name}, which has no member '{pair.Key}'. Members: {string.Join(", ", parameters.Select(p => p.Name))}.");
                    arguments[index] = Convert(pair.Value, parameters[index].ParameterType, $"{path}.{parameters[index].Name}", depth + 1);
                    given[index] = true;
                }
                break;
            case object?[] items:
                if (items.Length > parameters.Length) throw Mismatch(path, value, target, $"at most {parameters.Length} field values");
                for (var i = 0; i < items.Length; i++)
                {
                    arguments[i] = Convert(items[i], parameters[i].ParameterType, $"{path}.{parameters[i].Name}", depth + 1);
                    given[i] = true;
                }
                break;
            default:
                throw Mismatch(path, value, target, $"a map or an array of the fields of {target.Name}");
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            if (given[i]) continue;
            if (parameters[i].HasDefaultValue) arguments[i] = parameters[i].DefaultValue;
            else if (!parameters[i].ParameterType.IsValueType || Nullable.GetUnderlyingType(parameters[i].ParameterType) is not null) arguments[i] = null;
            else throw new TaskBindingException($"{path} is a {target.Name} and needs '{parameters[i].Name}', which the task does not give.");
        }
        return constructor.Invoke(arguments);
    }
}
