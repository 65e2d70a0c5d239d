namespace Delayed;

/// <summary>Where a tracked task is (Get-DelayedTask -Id).</summary>
public enum TrackedTaskState
{
    /// <summary>No record: never tracked on this queue under that id, or kept past its time (-KeepFor), or the queue was cleared.</summary>
    Unknown,
    Queued,
    Scheduled,
    Running,
    Completed,
    Failed,
    Stopped,

    /// <summary>Taken by a worker that keeps no records (Python or Go): its outcome is not known.</summary>
    TakenUntracked,
}
