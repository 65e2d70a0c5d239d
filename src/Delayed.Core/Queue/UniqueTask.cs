using System;

namespace Delayed.Core.Queue;

/// <summary>A task to enqueue only if no task of the same key was enqueued within its window.</summary>
public sealed class UniqueTask
{
    /// <param name="bytes">The task's exact bytes.</param>
    /// <param name="window">How long its key blocks another enqueue.</param>
    /// <param name="key">The uniqueness key; null for the task's bytes.</param>
    /// <param name="delay">Runs after this long (by the server's clock), or</param>
    /// <param name="at">at this time; neither for at once.</param>
    /// <param name="keepFor">To track it (<see cref="TrackedEnqueue"/>): how long its record stays after it ends; null untracked.</param>
    public UniqueTask(byte[] bytes, TimeSpan window, string? key = null, TimeSpan? delay = null, DateTimeOffset? at = null, TimeSpan? keepFor = null)
    {
        if (keepFor <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(keepFor), keepFor, "A tracked task's record must be kept for a positive time.");
        KeepFor = keepFor;
        TrackingId = keepFor is null ? null : TrackingIds.New();
        Bytes = bytes ?? throw new ArgumentNullException(nameof(bytes));
        Window = window;
        Key = key;
        Delay = delay;
        At = at;
    }

    public byte[] Bytes { get; }

    public TimeSpan Window { get; }

    public string? Key { get; }

    public TimeSpan? Delay { get; }

    public DateTimeOffset? At { get; }

    /// <summary>The id it is tracked by, when tracked.</summary>
    public string? TrackingId { get; }

    public TimeSpan? KeepFor { get; }
}
