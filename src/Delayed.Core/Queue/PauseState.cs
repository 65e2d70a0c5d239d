using System;
using MessagePack;

namespace Delayed.Core.Queue;

/// <summary>Since when and why a queue is paused, as its <see cref="Protocol.QueueKeys.Paused"/> key holds it.</summary>
public sealed class PauseState
{
    public PauseState(DateTimeOffset since, string reason)
    {
        Since = since;
        Reason = reason;
    }

    public DateTimeOffset Since { get; }

    public string Reason { get; }

    /// <summary>The state a paused key holds; null when there is no key. A value that does not read still means paused.</summary>
    internal static PauseState? Read(byte[]? value)
    {
        if (value is null) return null;
        try
        {
            var reader = new MessagePackReader(value);
            if (reader.ReadArrayHeader() < 2) throw new FormatException("not a 2-element array");
            var since = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
            var reason = Codec.MessagePackText.Read(ref reader);
            return new PauseState(since, reason);
        }
        catch (Exception e) when (e is FormatException or MessagePackSerializationException or System.IO.EndOfStreamException or InvalidOperationException)
        {
            return new PauseState(DateTimeOffset.MinValue, $"(the pause record does not read: {e.Message})");
        }
    }
}
