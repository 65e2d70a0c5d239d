using System;
using System.Buffers;
using System.Text;
using MessagePack;

namespace Delayed.Core.Queue;

/// <summary>A task in the failed store: why, when and where it failed, and its exact bytes.</summary>
public sealed class FailedEntry
{
    public FailedEntry(string id, DateTimeOffset failedAt, string reason, string error, string workerId, string host, long attempts, byte[] raw)
    {
        Id = id;
        FailedAt = failedAt;
        Reason = reason;
        Error = error;
        WorkerId = workerId;
        Host = host;
        Attempts = attempts;
        Raw = raw;
    }

    public string Id { get; }

    public DateTimeOffset FailedAt { get; }

    /// <summary>A <see cref="FailureReason"/> name; kept as text, so a record written by a newer version still reads.</summary>
    public string Reason { get; }

    public string Error { get; }

    public string WorkerId { get; }

    public string Host { get; }

    /// <summary>How many times a handler ran it and it failed.</summary>
    public long Attempts { get; }

    public byte[] Raw { get; }

    /// <summary>The id of a tracked task (Add-DelayedTask -AsJob); null for an untracked one.</summary>
    public string? TrackingId { get; private set; }

    /// <summary>Reads a record of <see cref="Protocol.QueueKeys.FailedData"/>; a record that does not read is shown as such, never thrown.</summary>
    internal static FailedEntry Read(string id, byte[] record)
    {
        try
        {
            var reader = new MessagePackReader(record);
            var count = reader.ReadArrayHeader();
            if (count is not (7 or 8)) throw new FormatException("not an array of 7 or 8 elements");
            var at = reader.ReadInt64();
            var reason = Codec.MessagePackText.Read(ref reader);
            var error = Codec.MessagePackText.Read(ref reader);
            var worker = Codec.MessagePackText.Read(ref reader);
            var host = Codec.MessagePackText.Read(ref reader);
            var attempts = reader.ReadInt64();
            var raw = reader.ReadStringSequence() is { } bytes ? bytes.ToArray() : Array.Empty<byte>();
            var tracked = count > 7 ? Codec.MessagePackText.Read(ref reader) : null;
            return new FailedEntry(id, DateTimeOffset.FromUnixTimeMilliseconds(at), reason, error, worker, host, attempts, raw) { TrackingId = tracked };
        }
        catch (Exception e) when (e is FormatException or MessagePackSerializationException or System.IO.EndOfStreamException or ArgumentOutOfRangeException or InvalidOperationException)
        {
            return new FailedEntry(id, DateTimeOffset.MinValue, "Unreadable", $"The failed-store record {id} does not read ({e.Message}).", "", "", 0, Array.Empty<byte>());
        }
    }
}
