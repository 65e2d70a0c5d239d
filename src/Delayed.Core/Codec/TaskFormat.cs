namespace Delayed.Core.Codec;

/// <summary>The two task encodings of the protocol (docs/protocol.md, Task formats).</summary>
public enum TaskFormat
{
    /// <summary><c>[name, args, kwargs, retry]</c> with the trailing-default rule.</summary>
    Python,

    /// <summary><c>[name, bin(payload)]</c>, the payload a MessagePack document of its own.</summary>
    Go,
}
