namespace Delayed.Core.Queue;

/// <summary>What stopping a tracked task that had not started did (<see cref="DelayedQueue.CancelTrackedAsync"/>).</summary>
public enum CancelOutcome
{
    /// <summary>It left the list or the schedule: it will not run.</summary>
    Stopped,

    /// <summary>A worker runs it: only that worker can stop it.</summary>
    Running,

    /// <summary>It had ended already.</summary>
    Ended,

    /// <summary>A worker that keeps no records (Python, Go) had taken it.</summary>
    TakenUntracked,

    /// <summary>No record under that id.</summary>
    Unknown,
}
