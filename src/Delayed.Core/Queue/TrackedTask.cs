using System;
using System.Globalization;
using MessagePack;

namespace Delayed.Core.Queue;

/// <summary>
/// The record of a tracked task (<see cref="Protocol.QueueKeys.Tracked"/>): its state and, when asked for, its bytes
/// and what its handler gave back.
/// </summary>
public sealed class TrackedTask
{
    private TrackedTask(string id, TrackedState state)
    {
        Id = id;
        State = state;
    }

    /// <summary>16 characters, unique per tracked task.</summary>
    public string Id { get; }

    public TrackedState State { get; private set; }

    /// <summary>When a scheduled task is due.</summary>
    public DateTimeOffset? DueAt { get; private set; }

    /// <summary>The worker that runs it, or ran it (once it has ended, however).</summary>
    public string? WorkerId { get; private set; }

    /// <summary>When the worker took it (its claim's clock); once it ran to its end, when its last run began.</summary>
    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>The attempt that ended it, from 1; 0 while unknown.</summary>
    public long Attempt { get; private set; }

    /// <summary>How long its last run took.</summary>
    public TimeSpan? Duration { get; private set; }

    /// <summary>Why it failed (a <see cref="FailureReason"/> name), or why it was stopped.</summary>
    public string? Reason { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Its bytes now (a retry changes them), when read.</summary>
    public byte[]? Bytes { get; private set; }

    /// <summary>What its handler gave back, as the host that ran it wrote it, when read; empty when none.</summary>
    public byte[]? Output { get; private set; }

    /// <summary>Whether it has ended, one way or another.</summary>
    public bool HasEnded => State is TrackedState.Completed or TrackedState.Failed or TrackedState.Stopped or TrackedState.TakenUntracked or TrackedState.Unknown;

    internal static TrackedTask Unknown(string id) => new(id, TrackedState.Unknown);

    /// <summary>Reads a state record; one that does not read is Unknown with the reason, never thrown.</summary>
    internal static TrackedTask Read(string id, byte[]? state, byte[]? bytes = null, byte[]? output = null)
    {
        if (state is null) return Unknown(id);
        var task = new TrackedTask(id, TrackedState.Unknown) { Bytes = bytes, Output = output };
        try
        {
            var reader = new MessagePackReader(state);
            var count = reader.ReadArrayHeader();
            var kind = Codec.MessagePackText.Read(ref reader);
            switch (kind)
            {
                case "q":
                    task.State = TrackedState.Queued;
                    break;
                case "d":
                    task.State = TrackedState.Scheduled;
                    task.DueAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                    break;
                case "r":
                    task.State = TrackedState.Running;
                    task.WorkerId = Codec.MessagePackText.Read(ref reader);
                    task.StartedAt = StampTime(Codec.MessagePackText.Read(ref reader));
                    break;
                case "c":
                    task.State = TrackedState.Completed;
                    task.EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                    task.ReadRun(ref reader, count > 4);
                    break;
                case "f":
                    task.State = TrackedState.Failed;
                    task.EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                    task.Attempt = ReadNumber(ref reader);
                    task.Reason = Codec.MessagePackText.Read(ref reader);
                    task.Error = Codec.MessagePackText.Read(ref reader);
                    task.WorkerId = count > 5 ? Codec.MessagePackText.Read(ref reader) : null;
                    break;
                case "x":
                    task.State = TrackedState.Stopped;
                    task.EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                    task.Reason = count > 2 ? Codec.MessagePackText.Read(ref reader) : null;
                    // Stopped while it ran: also its attempt, how long it ran and where.
                    if (count > 4) task.ReadRun(ref reader, count > 5);
                    break;
                case "g":
                    task.State = TrackedState.TakenUntracked;
                    task.EndedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.ReadInt64());
                    break;
                default:
                    task.Error = $"The record of tracked task {id} has a state this version does not know ('{kind}').";
                    break;
            }
        }
        catch (Exception e) when (e is FormatException or MessagePackSerializationException or System.IO.EndOfStreamException or ArgumentOutOfRangeException or InvalidOperationException)
        {
            task.State = TrackedState.Unknown;
            task.Error = $"The record of tracked task {id} does not read ({e.Message}).";
        }
        return task;
    }

    /// <summary>
    /// The attempt and the duration in ms of a run that ended, and the worker that ran it when the record names it (those
    /// written by earlier builds of this module do not); the run began its duration before it ended.
    /// </summary>
    private void ReadRun(ref MessagePackReader reader, bool namesItsWorker)
    {
        Attempt = ReadNumber(ref reader);
        Duration = TimeSpan.FromMilliseconds(ReadNumber(ref reader));
        StartedAt = EndedAt - Duration;
        if (namesItsWorker) WorkerId = Codec.MessagePackText.Read(ref reader);
    }

    // Lua numbers come back from cmsgpack as integers when whole, as doubles when not (or nil when absent).
    private static long ReadNumber(ref MessagePackReader reader)
    {
        if (reader.TryReadNil()) return 0;
        return reader.NextMessagePackType == MessagePackType.Float ? (long)reader.ReadDouble() : reader.ReadInt64();
    }

    // A claim stamp is "<claim number>:<unix ms>".
    private static DateTimeOffset? StampTime(string stamp)
    {
        var colon = stamp.IndexOf(':');
        return colon > 0 && long.TryParse(stamp.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;
    }
}
