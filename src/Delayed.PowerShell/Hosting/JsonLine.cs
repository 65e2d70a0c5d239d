using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Delayed.PowerShell.Hosting;

/// <summary>One JSON object on one line, for log shippers (netstandard2.0 has no JSON writer of its own).</summary>
internal static class JsonLine
{
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
            switch (pair.Value)
            {
                case bool flag: json.Append(flag ? "true" : "false"); break;
                case long or int: json.Append(Convert.ToString(pair.Value, CultureInfo.InvariantCulture)); break;
                case double number: json.Append(number.ToString("0.###", CultureInfo.InvariantCulture)); break;
                case DateTime time: AppendString(json, time.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture)); break;
                default: AppendString(json, Convert.ToString(pair.Value, CultureInfo.InvariantCulture) ?? ""); break;
            }
        }
        return json.Append('}').ToString();
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
