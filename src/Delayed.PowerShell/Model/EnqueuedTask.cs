using System;

namespace Delayed;

/// <summary>A task Add-DelayedTask sent (with -PassThru).</summary>
public sealed class EnqueuedTask
{
    internal EnqueuedTask(Queue queue, string name, TaskFormat format, int size)
    {
        Queue = queue;
        Name = name;
        Format = format;
        Size = size;
    }

    public Queue Queue { get; }
    public string Name { get; }
    public TaskFormat Format { get; }

    /// <summary>Serialized size in bytes.</summary>
    public int Size { get; }

    /// <summary>
    /// True when the task was not enqueued because one with the same uniqueness key was, less than -UniqueFor ago
    /// (Add-DelayedTask -UniqueFor).
    /// </summary>
    public bool Duplicate { get; internal set; }

    /// <summary>
    /// The id of the tracked task (Add-DelayedTask -AsJob) this enqueue stands for: the new one, or for a duplicate the
    /// tracked one that holds the window; Get-DelayedTask -Id finds it. Empty for an untracked task.
    /// </summary>
    public string? TrackingId { get; internal set; }

    /// <summary>
    /// The id of its entry in the queue's schedule, for a task added with -Delay or -At (not with -AsJob, and not a
    /// duplicate skipped by -UniqueFor); with Bytes, Remove-DelayedTask cancels it. Empty otherwise.
    /// </summary>
    public string? ScheduleId { get; internal set; }

    /// <summary>When a scheduled task is due (the Redis server's clock), in local time; empty for a task enqueued to run now.</summary>
    public DateTimeOffset? DueAt { get; internal set; }

    /// <summary>The exact bytes of a scheduled task, which cancelling it with Remove-DelayedTask needs; empty otherwise.</summary>
    public byte[]? Bytes { get; internal set; }

    /// <summary>Takes what the schedule says of it: the entry's id, when it is due (shown in local time) and its bytes.</summary>
    internal void Scheduled(Core.Queue.ScheduledEntry entry)
    {
        ScheduleId = entry.Id;
        DueAt = entry.DueAt.ToLocalTime();
        Bytes = entry.Raw;
    }
}
