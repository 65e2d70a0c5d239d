using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.Linq;
using Delayed.Core.Codec;

namespace Delayed.PowerShell.Conversion;

/// <summary>A task's bytes as the inspection cmdlets show them: decoded to PowerShell values, or why not.</summary>
internal sealed class TaskView
{
    private TaskView(string? name, TaskFormat? format, object?[] argumentList, OrderedDictionary parameter, long retry, string? decodeError)
    {
        Name = name;
        Format = format;
        ArgumentList = argumentList;
        Parameter = parameter;
        Retry = retry;
        DecodeError = decodeError;
    }

    public string? Name { get; }
    public TaskFormat? Format { get; }

    /// <summary>Positional arguments; for a Go-shaped task, its payload as the only element.</summary>
    public object?[] ArgumentList { get; }

    public OrderedDictionary Parameter { get; }
    public long Retry { get; }
    public string? DecodeError { get; }

    /// <summary>The arguments on one line, as the tables show them: positional ones, then parameters as
    /// Name=value; strings, numbers and dates as they are, lists and maps as compact JSON.</summary>
    public string FormatArguments()
    {
        var parts = new List<string>(ArgumentList.Length + Parameter.Count);
        foreach (var argument in ArgumentList) parts.Add(Show(argument));
        foreach (DictionaryEntry parameter in Parameter) parts.Add($"{parameter.Key}={Show(parameter.Value)}");
        return string.Join(", ", parts);

        static string Show(object? value) => value switch
        {
            null => "$null",
            string text => text,
            IFormattable scalar when value is not IEnumerable => scalar.ToString(null, CultureInfo.CurrentCulture),
            bool flag => flag ? "True" : "False",
            _ => JsonLine.ValueOf(value),
        };
    }

    /// <summary>The task as a confirmation prompt names it: "Name(arguments)", or why its bytes do not decode.</summary>
    public string Describe() => Name is null ? $"an undecodable task ({DecodeError})" : $"{Name}({FormatArguments()})";

    /// <summary>A task already decoded.</summary>
    public static TaskView Of(DelayedTask task)
    {
        if (task.Format == Core.Codec.TaskFormat.Go)
        {
            var payload = task.HasPayload ? new[] { PlainDataConverter.FromPlain(task.Payload) } : Array.Empty<object?>();
            return new TaskView(task.Name, TaskFormat.Go, payload, new OrderedDictionary(), 0, null);
        }
        return new TaskView(task.Name, TaskFormat.Python, task.Arguments.Select(PlainDataConverter.FromPlain).ToArray(),
            PlainDataConverter.MapToOrdered(task.NamedArguments), task.Retry, null);
    }

    public static TaskView Of(byte[] raw)
    {
        try
        {
            return Of(TaskDecoder.Decode(raw));
        }
        catch (MalformedTaskException e)
        {
            return new TaskView(null, null, Array.Empty<object?>(), new OrderedDictionary(), 0, e.Message);
        }
    }
}
