namespace Delayed.Core.Queue;

/// <summary>Where a tracked task is in its life (<see cref="Protocol.QueueKeys.Tracked"/>).</summary>
public enum TrackedState
{
    /// <summary>No record: the id was never tracked on this queue, or its record was kept past its time.</summary>
    Unknown,

    /// <summary>Waiting in the task list.</summary>
    Queued,

    /// <summary>Waiting in the schedule (a delay, a time, or a retry's back-off).</summary>
    Scheduled,

    /// <summary>A worker of this implementation runs it.</summary>
    Running,

    Completed,

    Failed,

    /// <summary>Stopped before it ran (Stop-Job), or while it ran.</summary>
    Stopped,

    /// <summary>Taken from the list by a worker that keeps no records (a Python or Go worker): its outcome is not known.</summary>
    TakenUntracked,
}
