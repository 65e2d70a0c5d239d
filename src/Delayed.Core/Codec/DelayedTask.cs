using System;
using System.Collections.Generic;

namespace Delayed.Core.Codec;

/// <summary>A decoded task: its name, its arguments as plain data, and the exact bytes it came from.</summary>
public sealed class DelayedTask
{
    private static readonly IReadOnlyDictionary<string, object?> NoNamedArguments = new Dictionary<string, object?>();

    internal DelayedTask(
        string name,
        TaskFormat format,
        IReadOnlyList<object?> arguments,
        IReadOnlyDictionary<string, object?>? namedArguments,
        long retry,
        bool hasPayload,
        object? payload,
        ReadOnlyMemory<byte> raw,
        ReadOnlyMemory<byte> rawArguments = default,
        ReadOnlyMemory<byte> rawNamedArguments = default)
    {
        Name = name;
        Format = format;
        Arguments = arguments;
        NamedArguments = namedArguments ?? NoNamedArguments;
        Retry = retry;
        HasPayload = hasPayload;
        Payload = payload;
        Raw = raw;
        RawArguments = rawArguments;
        RawNamedArguments = rawNamedArguments;
    }

    /// <summary>The function path: <c>module:function</c> for Python-shaped tasks, <c>pkg.Func</c> for Go-shaped ones.</summary>
    public string Name { get; }

    public TaskFormat Format { get; }

    /// <summary>Positional arguments (Python-shaped tasks); empty for Go-shaped tasks.</summary>
    public IReadOnlyList<object?> Arguments { get; }

    /// <summary>Keyword arguments (Python-shaped tasks), in wire order.</summary>
    public IReadOnlyDictionary<string, object?> NamedArguments { get; }

    /// <summary>Retry budget (Python-shaped): 0 none, n &gt; 0 n more attempts, negative unlimited.</summary>
    public long Retry { get; }

    /// <summary>Whether a Go-shaped task carries a payload; an absent payload differs from a nil one.</summary>
    public bool HasPayload { get; }

    /// <summary>The decoded payload of a Go-shaped task.</summary>
    public object? Payload { get; }

    /// <summary>
    /// A Go-shaped task's payload as positional arguments for a handler that declares
    /// <paramref name="parameterCount"/> data parameters, as the Go worker passes it: none without a payload, or
    /// for a nil payload (what a Go task without arguments carries) to a handler without parameters; an array
    /// spread over several parameters; anything else whole, as the one argument.
    /// </summary>
    public IReadOnlyList<object?> GoArguments(int parameterCount)
    {
        if (Format != TaskFormat.Go) throw new InvalidOperationException("Only Go-shaped tasks carry a payload.");
        if (!HasPayload || (Payload is null && parameterCount == 0)) return Array.Empty<object?>();
        return parameterCount != 1 && Payload is object?[] items ? items : new[] { Payload };
    }

    /// <summary>The bytes exactly as they were popped from the queue.</summary>
    public ReadOnlyMemory<byte> Raw { get; }

    /// <summary>The wire bytes of the positional arguments (element 1), kept so a retry re-sends them unchanged.</summary>
    internal ReadOnlyMemory<byte> RawArguments { get; }

    /// <summary>The wire bytes of the keyword arguments (element 2).</summary>
    internal ReadOnlyMemory<byte> RawNamedArguments { get; }
}
