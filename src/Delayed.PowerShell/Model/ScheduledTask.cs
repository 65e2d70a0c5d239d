using System;

namespace Delayed;

/// <summary>A task that runs later, as Get-DelayedTask -Scheduled shows it.</summary>
public sealed class ScheduledTask : TaskSnapshot
{
    internal ScheduledTask(Queue queue, string scheduleId, DateTimeOffset dueAt, byte[] bytes)
        : base(queue, bytes)
    {
        ScheduleId = scheduleId;
        DueAt = dueAt.ToLocalTime();
    }

    /// <summary>The entry's id in the schedule: with the bytes, what Remove-DelayedTask cancels.</summary>
    public string ScheduleId { get; }

    /// <summary>When it becomes runnable (local time, with its offset), by the Redis server's clock.</summary>
    public DateTimeOffset DueAt { get; }
}
