using System;

namespace Delayed.Core.Codec;

/// <summary>Bytes popped from a queue are not a task of either shape (docs/protocol.md, Task formats).</summary>
public sealed class MalformedTaskException : Exception
{
    public MalformedTaskException(string message) : base(message) { }
    public MalformedTaskException(string message, Exception inner) : base(message, inner) { }
}
