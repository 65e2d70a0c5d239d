using System;

namespace Delayed.Core.Queue;

/// <summary>A task to enqueue tracked: its bytes, when it runs (now, after a delay, or at a time), and how long its record stays after it ends.</summary>
public sealed class TrackedEnqueue
{
    public TrackedEnqueue(byte[] task, TimeSpan keepFor, TimeSpan? delay = null, DateTimeOffset? at = null)
    {
        if (delay is not null && at is not null) throw new ArgumentException("A task runs after a delay or at a time, not both.", nameof(at));
        if (delay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(delay), delay, "A delay cannot be negative.");
        if (keepFor <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(keepFor), keepFor, "A tracked task's record must be kept for a positive time.");
        Task = task ?? throw new ArgumentNullException(nameof(task));
        KeepFor = keepFor;
        Delay = delay;
        At = at;
        Id = TrackingIds.New();
    }

    /// <summary>The id the task is tracked by, drawn here.</summary>
    public string Id { get; }

    public byte[] Task { get; }

    public TimeSpan KeepFor { get; }

    public TimeSpan? Delay { get; }

    public DateTimeOffset? At { get; }
}
