namespace Delayed;

/// <summary>How a task ended on a worker.</summary>
public enum TaskStatus
{
    Succeeded,
    Failed,
    /// <summary>Re-enqueued: failed with retry budget left, or interrupted by a stop.</summary>
    Retried,
    /// <summary>Released without running: unknown name or undecodable bytes.</summary>
    Dropped,
}
