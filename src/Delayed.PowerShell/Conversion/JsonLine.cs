using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using System.Text;

namespace Delayed.PowerShell.Conversion;

/// <summary>Compact JSON on one line, for log shippers and tables (netstandard2.0 has no JSON writer of its own).</summary>
internal static class JsonLine
{
    /// <summary>One JSON object of the fields that have a value.</summary>
    public static string Of(IEnumerable<KeyValuePair<string, object?>> fields)
    {
        var json = new StringBuilder("{");
        var first = true;
        foreach (var pair in fields)
        {
            if (pair.Value is null) continue;
            if (!first) json.Append(',');
            first = false;
            AppendString(json, pair.Key);
            json.Append(':');
            AppendValue(json, pair.Value);
        }
        return json.Append('}').ToString();
    }

    /// <summary>A plain-data value (scalars, byte arrays as base64, lists, maps) as JSON.</summary>
    public static string ValueOf(object? value)
    {
        var json = new StringBuilder();
        AppendValue(json, value);
        return json.ToString();
    }

    private static void AppendValue(StringBuilder json, object? value)
    {
        switch (value is PSObject wrapped ? wrapped.BaseObject : value)
        {
            case null: json.Append("null"); break;
            case bool flag: json.Append(flag ? "true" : "false"); break;
            case long or int or short or sbyte or ulong or uint or ushort or byte or decimal:
                json.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            case double number: json.Append(number.ToString("0.###", CultureInfo.InvariantCulture)); break;
            case float number: json.Append(number.ToString("0.###", CultureInfo.InvariantCulture)); break;
            case DateTime time: AppendString(json, time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); break;
            case byte[] bytes: AppendString(json, Convert.ToBase64String(bytes)); break;
            case string text: AppendString(json, text); break;
            case IDictionary map:
                json.Append('{');
                var first = true;
                foreach (DictionaryEntry entry in map)
                {
                    if (!first) json.Append(',');
                    first = false;
                    AppendString(json, Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    json.Append(':');
                    AppendValue(json, entry.Value);
                }
                json.Append('}');
                break;
            case IEnumerable list:
                json.Append('[');
                var next = false;
                foreach (var item in list)
                {
                    if (next) json.Append(',');
                    next = true;
                    AppendValue(json, item);
                }
                json.Append(']');
                break;
            default: AppendString(json, Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""); break;
        }
    }

    private static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < ' ') json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }
}
