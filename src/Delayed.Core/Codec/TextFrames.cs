using System;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>
/// A list of texts as a MessagePack array of strings: how a host frames what a tracked task's handler gave back
/// (<see cref="Protocol.QueueKeys.Tracked"/>, field 'o'). Read as untrusted data: strings only, bounded in size.
/// </summary>
public static class TextFrames
{
    private static readonly MessagePackSerializerOptions Options =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    public static byte[] Write(string[] texts) => MessagePackSerializer.Serialize(texts, Options);

    /// <summary>The texts, or a <see cref="FormatException"/> saying why the bytes do not read.</summary>
    public static string[] Read(byte[] bytes, int maxBytes)
    {
        if (bytes.Length > maxBytes) throw new FormatException($"{bytes.Length:N0} bytes is more than the {maxBytes:N0} allowed.");
        try
        {
            return MessagePackSerializer.Deserialize<string[]>(bytes, Options) ?? Array.Empty<string>();
        }
        catch (MessagePackSerializationException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}
