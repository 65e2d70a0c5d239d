using System;

namespace Delayed.Core.Queue;

/// <summary>A task in the schedule: its entry id, when it is due (the Redis server's clock), and its exact bytes.</summary>
public sealed class ScheduledEntry
{
    /// <summary>Length of the id that starts every schedule entry (<see cref="Protocol.QueueKeys.Scheduled"/>).</summary>
    internal const int IdLength = 16;

    public ScheduledEntry(string id, DateTimeOffset dueAt, byte[] raw)
    {
        Id = id;
        DueAt = dueAt;
        Raw = raw;
    }

    public string Id { get; }

    public DateTimeOffset DueAt { get; }

    public byte[] Raw { get; }

    /// <summary>The member of the schedule's sorted set: the id, then the bytes.</summary>
    internal byte[] Member()
    {
        var member = new byte[IdLength + Raw.Length];
        System.Text.Encoding.ASCII.GetBytes(Id, 0, IdLength, member, 0);
        Buffer.BlockCopy(Raw, 0, member, IdLength, Raw.Length);
        return member;
    }

    internal static ScheduledEntry FromMember(byte[] member, double score)
    {
        if (member.Length < IdLength) throw new FormatException("A schedule entry is shorter than its id.");
        var raw = new byte[member.Length - IdLength];
        Buffer.BlockCopy(member, IdLength, raw, 0, raw.Length);
        return new ScheduledEntry(System.Text.Encoding.ASCII.GetString(member, 0, IdLength), DateTimeOffset.FromUnixTimeMilliseconds((long)score), raw);
    }

    private static readonly string ProcessPrefix = Protocol.WorkerIds.RandomHex(4);
    private static int _counter;

    /// <summary>
    /// A fresh entry id: 16 lowercase hex characters, 8 drawn at random once per process and 8 counting up. It only
    /// has to tell apart entries with equal bytes, and costs no random draw per task.
    /// </summary>
    internal static string NewId() =>
        ProcessPrefix + unchecked((uint)System.Threading.Interlocked.Increment(ref _counter)).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
}
