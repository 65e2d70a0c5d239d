namespace Delayed.Core.Queue;

/// <summary>What an administrative change to one task or worker did.</summary>
public enum AdminOutcome
{
    /// <summary>Done.</summary>
    Done,

    /// <summary>The worker no longer holds those bytes: released, restored or removed already.</summary>
    NotHeld,

    /// <summary>The worker is alive; refused without force.</summary>
    WorkerAlive,

    /// <summary>No such queued task, or no registered worker of this implementation with that id.</summary>
    NotFound,

    /// <summary>The worker's liveness key is gone.</summary>
    WorkerGone,
}
