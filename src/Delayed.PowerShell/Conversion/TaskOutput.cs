using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using Delayed.Core.Codec;

namespace Delayed.PowerShell.Conversion;

/// <summary>
/// What a tracked task's handler gave back, as its record keeps it: texts (<see cref="TextFrames"/>) in pairs of a kind
/// and a text: 'o' an output object as CliXml (PowerShell's own serializer, as remoting and background jobs use, at
/// <see cref="Depth"/>), 'e' an error, 'w' a warning, 'v' verbose, 'd' debug, 'i' information, 'h' Write-Host (texts),
/// 'n' a note of this module (what was dropped over the bound). Written by the worker, read by the caller's job.
/// </summary>
internal sealed class TaskOutput
{
    /// <summary>How deep output objects are serialized: their properties, and the properties of those.</summary>
    public const int Depth = 2;

    /// <summary>The most bytes of output kept per task; beyond it items are dropped and a note says how many.</summary>
    public const int DefaultMaxBytes = 1024 * 1024;

    // A reader refuses more than the writer could ever write (the bound, its note, and the framing).
    private const int MaxReadBytes = DefaultMaxBytes + 64 * 1024;

    private readonly List<string> _entries = new();
    private readonly int _maxBytes;
    private long _bytes;
    private int _dropped;

    public TaskOutput(int maxBytes = DefaultMaxBytes) => _maxBytes = maxBytes;

    /// <summary>Adds one item a handler wrote (a stream record, or an output object); callable from one thread at a time.</summary>
    public void Add(object? item)
    {
        var (kind, text) = (item is PSObject { BaseObject: not PSCustomObject } wrapped ? wrapped.BaseObject : item) switch
        {
            WarningRecord warning => ("w", warning.Message),
            VerboseRecord verbose => ("v", verbose.Message),
            DebugRecord debug => ("d", debug.Message),
            InformationRecord information => (information.Tags.Contains("PSHOST") ? "h" : "i", information.MessageData?.ToString() ?? ""),
            ErrorRecord error => ("e", error.ToString()),
            _ => ("o", PSSerializer.Serialize(item, Depth)),
        };
        var size = Encoding.UTF8.GetByteCount(text) + 8;
        if (_bytes + size > _maxBytes)
        {
            _dropped++;
            return;
        }
        _bytes += size;
        _entries.Add(kind);
        _entries.Add(text);
    }

    /// <summary>The value of a .NET handler: an enumerable's items one by one, as PowerShell would write them.</summary>
    public static byte[] OfValue(object value)
    {
        var output = new TaskOutput();
        foreach (var item in LanguagePrimitives.GetEnumerable(value)?.Cast<object?>() ?? new[] { value }) output.Add(item);
        return output.ToBytes();
    }

    public byte[] ToBytes()
    {
        var entries = new List<string>(_entries);
        if (_dropped > 0)
        {
            entries.Add("n");
            entries.Add($"The output was truncated: {_dropped} item(s) past the bound of {_maxBytes:N0} bytes per task were dropped.");
        }
        return TextFrames.Write(entries.ToArray());
    }

    /// <summary>Reads what <see cref="ToBytes"/> wrote; output objects come back deserialized, like a remote job's.</summary>
    public static IReadOnlyList<(char Kind, object? Value)> Read(byte[] bytes)
    {
        if (bytes.Length == 0) return Array.Empty<(char, object?)>();
        string[] entries;
        try
        {
            entries = TextFrames.Read(bytes, MaxReadBytes);
        }
        catch (FormatException e)
        {
            return new[] { ('n', (object?)$"The task's output does not read: {e.Message}") };
        }
        var items = new List<(char, object?)>(entries.Length / 2);
        for (var i = 0; i + 1 < entries.Length; i += 2)
        {
            var kind = entries[i].Length == 1 ? entries[i][0] : '?';
            items.Add(kind == 'o' ? (kind, Deserialize(entries[i + 1])) : (kind, entries[i + 1]));
        }
        return items;
    }

    private static object? Deserialize(string xml)
    {
        try
        {
            return PSSerializer.Deserialize(xml);
        }
        catch (Exception e) when (e is System.Xml.XmlException or InvalidOperationException or ArgumentException or PSArgumentException)
        {
            return $"(an output object that does not read: {e.Message})";
        }
    }

}
