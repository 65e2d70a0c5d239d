using System.Buffers;
using System.Text;
using MessagePack;

namespace Delayed.Core.Codec;

/// <summary>Reads a string of this implementation's own records (failed store, pause, schedules): nil reads as "".</summary>
internal static class MessagePackText
{
    public static string Read(ref MessagePackReader reader) =>
        reader.ReadStringSequence() is { } bytes ? Encoding.UTF8.GetString(bytes.ToArray()) : "";
}
